"""Command-line options of ``estimate lp-did`` (kept apart so estimate_cmds stays small)."""
from __future__ import annotations

from ..errors import UsageError
from ..parse import span


def add_lp_did_arguments(g) -> None:
    g.add_argument("--treat", metavar="COL", help="0/1 treatment column (required)")
    g.add_argument("--window", metavar="A:B", default="-5:5", help="event times estimated [-5:5]")
    g.add_argument("--ref", type=int, default=-1, metavar="E", help="base period of the long differences [-1]")
    g.add_argument("--pmd", metavar="K|max", help="pre-mean differencing: baseline = mean of the K periods before "
                   "(max: every earlier period) [none: the --ref period]")
    g.add_argument("--nonabsorbing", type=int, metavar="L",
                   help="non-absorbing treatment: effects stabilise after L periods; clean samples exclude "
                        "treatment changes in the L periods before [absorbing]")
    g.add_argument("--reweight", action="store_true",
                   help="equally-weighted LP-DiD (Stata lpdid rw): every newly treated observation weighs the "
                        "same [off: OLS variance weights]")
    g.add_argument("--cluster", metavar="COL", help="[unit]")


def lp_did_options(a) -> dict:
    w = span(a.window, name="--window")
    if w is None or w[0] > a.ref or w[1] < 0:
        raise UsageError("--window A:B needs A <= --ref and B >= 0, e.g. -5:5.")
    pmd = a.pmd
    if pmd is not None and pmd != "max":
        try:
            pmd = int(pmd)
        except ValueError:
            raise UsageError(f"--pmd takes a whole number of periods or 'max', got {a.pmd!r}.") from None
        if pmd < 1:
            raise UsageError("--pmd K needs K >= 1.")
    if a.nonabsorbing is not None and a.nonabsorbing < 1:
        raise UsageError("--nonabsorbing L needs L >= 1.")
    return dict(window=w, ref=a.ref, pmd=pmd, nonabsorbing=a.nonabsorbing, cluster=a.cluster,
                reweight=bool(getattr(a, "reweight", False)))
