"""`rosetta bench`: the course's claims measured live, every model side by side.

One module per kind of measurement (`switch`, `echo`, `http`, `scale`, `idle`, `download`);
what they share is here too: interleaved rounds and their statistics (`rounds`), the JSON
document (`document`), the terminal table and progress bar (`report`), starting and stopping
the contenders (`contenders`), the load generators (`load`), idle connections held open
(`holding`), process accounting (`procs`) and the plots (`plots`).
"""
