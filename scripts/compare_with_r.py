"""Print the headline statistics next to R's values (tests/data/r_reference/reference.csv).

    python scripts/compare_with_r.py

A Markdown table: statistic, R 4.2 value, ours, relative difference. The tests check
every value at 1e-9; this is the readable summary of the same comparison.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from r_reference import number, read_reference, rows, samples, table
from tace_planner.domain import statistics as st
from tace_planner.domain.survival import kaplan_meier, log_rank


def _survival(dataset: str) -> tuple[list[float], list[int], list[str]]:
    data = rows("survival", dataset)
    return (
        [float(r["time"]) for r in data],
        [int(r["event"]) for r in data],
        [r["group"] for r in data],
    )


def main() -> None:
    reference = read_reference()
    data = samples()
    ours: list[tuple[str, str, float | None]] = []
    for ds in ("mw_exact", "mw_ties", "mw_large"):
        result = st.mann_whitney(data[ds]["A"], data[ds]["B"])
        ours += [
            (f"wilcox.test {ds} W", f"wilcox.{ds}.W", result.statistic),
            (f"wilcox.test {ds} p ({result.method})", f"wilcox.{ds}.p", result.p),
        ]
    from scipy import stats

    scipy_p = float(stats.mannwhitneyu(data["mw_exact"]["A"], data["mw_exact"]["B"]).pvalue)
    ours += [("(scipy mannwhitneyu default, mw_exact p)", "wilcox.mw_exact.p", scipy_p)]
    kw = st.kruskal_wallis(data["kw3"])
    ours += [
        ("kruskal.test H", "kruskal.kw3.H", kw.statistic),
        ("kruskal.test p", "kruskal.kw3.p", kw.p),
    ]
    for ds in ("sw_normal", "sw_skewed", "sw_sixty"):
        sw = st.shapiro_wilk(data[ds]["A"])
        ours += [(f"shapiro.test {ds} W", f"shapiro.{ds}.W", sw.statistic),
                 (f"shapiro.test {ds} p", f"shapiro.{ds}.p", sw.p)]  # fmt: skip
    points = rows("regression", "lm_noisy")
    fit = st.linear_regression([float(r["x"]) for r in points], [float(r["y"]) for r in points])
    ours += [("lm slope", "lm.lm_noisy.slope", fit.slope), ("lm R²", "lm.lm_noisy.r2", fit.r2),
             ("lm p", "lm.lm_noisy.p", fit.p)]  # fmt: skip
    ours += [
        ("fisher.test p (fisher_b)", "fisher.fisher_b.p", st.fisher_exact(table("fisher_b")).p)
    ]
    chi = st.chi_squared(table("chisq_2x2"))
    ours += [("chisq.test X² Yates", "chisq.chisq_2x2.X2", chi.statistic),
             ("chisq.test p Yates", "chisq.chisq_2x2.p", chi.p)]  # fmt: skip
    for ds in ("km_plateau", "km_many"):
        km = kaplan_meier(*_survival(ds)[:2])
        ours += [(f"survfit {ds} median", f"km.{ds}.median", km.median),
                 (f"survfit {ds} median lower", f"km.{ds}.lower", km.median_lower),
                 (f"survfit {ds} median upper", f"km.{ds}.upper", km.median_upper)]  # fmt: skip
    km = kaplan_meier(*_survival("km_censored")[:2])
    ours += [("survfit km_censored lower t=12", "km.km_censored.5.lower", km.lower[4]),
             ("survfit km_censored upper t=12", "km.km_censored.5.upper", km.upper[4])]  # fmt: skip
    lr = log_rank(*_survival("lr_two"))
    ours += [("survdiff χ² (2 groups)", "logrank.lr_two.chisq", lr.chisq),
             ("survdiff p (2 groups)", "logrank.lr_two.p", lr.p)]  # fmt: skip
    print(f"R: {reference['R.version.string']}, survival {reference['survival.version']}\n")
    print("| statistic | R | ours | relative difference |")
    print("| --- | --- | --- | --- |")
    for label, key, value in ours:
        expected = number(reference, key)
        if expected is None or value is None:
            diff = "both NA" if expected is None and value is None else "MISMATCH"
        else:
            diff = f"{abs(value - expected) / abs(expected):.1e}" if expected else "0"
        print(f"| {label} | {reference[key]} | {value!r} | {diff} |")


if __name__ == "__main__":
    main()
