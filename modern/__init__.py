"""The asyncio / uvloop / aiohttp counterpart of each classic model.

Every module names the classic models it replaces and what changes for someone migrating.
"""
