"""Processes forked while threads compute cached values: a child never waits for them."""

from __future__ import annotations

from harness.subprocesses import run_python

CHURN_AND_FORK = """
    import os, signal, sys, threading, time
    from codomyrmex.performance import CacheManager, cached_function

    KEYS = 50

    @cached_function(max_size=8)  # 50 keys through 8 slots: every call misses and evicts
    def slow(x):
        time.sleep(0.001)
        return x

    shared = CacheManager(max_size=8, name="fork-shared")
    stop = threading.Event()

    def churn(seed):
        i = seed
        while not stop.is_set():
            slow(i % KEYS)
            shared.get_or_set(i % KEYS, lambda: time.sleep(0.001) or i)
            i += 7

    threads = [threading.Thread(target=churn, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    children = []
    for _ in range({children}):
        time.sleep(0.003)  # fork at many different moments of the churn
        pid = os.fork()
        if pid == 0:
            ok = all(slow(k) == k for k in range(KEYS))
            ok = ok and all(shared.get_or_set(k, lambda: -1) is not None for k in range(KEYS))
            os._exit(0 if ok else 3)
        children.append(pid)
    stop.set()
    deadline = time.monotonic() + {deadline}
    hung = failed = 0
    for pid in children:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                failed += os.waitstatus_to_exitcode(status) != 0
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                hung += 1
                break
            time.sleep(0.01)
    print(hung, failed)
"""


def test_children_forked_mid_computation_never_hang() -> None:
    result = run_python(CHURN_AND_FORK.format(children=100, deadline=30), timeout=90)
    assert result.returncode == 0, result.stderr
    hung, failed = result.stdout.split()
    assert (int(hung), int(failed)) == (0, 0)


def test_a_child_computes_a_key_its_parent_thread_is_computing() -> None:
    result = run_python(
        """
        import os, threading, time
        from codomyrmex.performance import cached_function

        release = threading.Event()
        started = threading.Event()

        @cached_function
        def slow(x):
            started.set()
            release.wait(10)
            return ("parent", x)

        leader = threading.Thread(target=slow, args=(1,))
        leader.start()
        started.wait(10)
        pid = os.fork()
        if pid == 0:  # the leader thread does not exist here: compute instead of waiting
            release.set()
            os._exit(0 if slow(1) == ("parent", 1) and slow.cache_info().misses == 2 else 3)
        deadline = time.monotonic() + 10
        while not (done := os.waitpid(pid, os.WNOHANG))[0] and time.monotonic() < deadline:
            time.sleep(0.01)
        if not done[0]:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        release.set()
        leader.join()
        print("hung" if not done[0] else os.waitstatus_to_exitcode(done[1]))
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
