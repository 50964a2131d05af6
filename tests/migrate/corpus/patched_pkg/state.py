"""A lock that was a greenlet lock under the package's patch_all."""

import threading

lock = threading.Lock()  # expect: patched-threading
