# Shared by the tide.async benchmarks' Python twins: the event loops to
# compare with, asyncio's own and uvloop when Debian's python3-uvloop is
# installed (a pyenv python may lack it while the system one has it).
import asyncio
import sys


def loops():
    out = [("asyncio", asyncio.new_event_loop)]
    try:
        import uvloop
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import uvloop
        except ImportError:
            uvloop = None
    if uvloop is not None:
        out.append(("uvloop", uvloop.new_event_loop))
    return out


def run(factory, coro):
    loop = factory()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
