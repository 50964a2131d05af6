"""An entry point that patches under its __main__ guard, before running the jobs."""

import jobs


def main() -> None:
    jobs.run_jobs()


if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all(thread=False)  # expect: monkey-patch-all
    main()
