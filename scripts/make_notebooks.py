"""Write the report notebooks in notebooks/ (thin: a parameters cell, then calls into ogimpact).

Run ``python scripts/make_notebooks.py`` after changing a notebook's cells here;
the notebooks are committed so users can open them in JupyterLab directly.
"""
from __future__ import annotations

from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]


def md(s):
    return nbf.v4.new_markdown_cell(s.strip())


def code(s, tags=()):
    c = nbf.v4.new_code_cell(s.strip())
    if tags:
        c.metadata["tags"] = list(tags)
    return c


SETUP = """
from ogimpact.reports import show
"""

COUNTRY = [
    code("""
# Parameters (Papermill injects the values of a run below this cell)
country = "CHL"
intervention = "rti_law"
measures = ["wgi.cc", "vdem.v2x_partipdem", "wgi.ge", "vdem.v2xme_altinf"]
years = None
designs = ["synth", "sdid", "its", "cs"]
variant = None
donor_rule = "similar"
placebo = True
seed = 0
horizon = 5
figures = None
output_dir = None
""", tags=["parameters"]),
    code(SETUP + """
ctx = show.start("country", output_dir=output_dir, country=country, intervention=intervention, measures=measures,
                 years=years, designs=designs, variant=variant, donor_rule=donor_rule, placebo=placebo, seed=seed,
                 horizon=horizon, figures=figures)
show.title_block(ctx)
"""),
    md("## 1. The intervention and its timing"),
    code("show.intervention(ctx)"),
    md("## 2. Outcome trends: the country, its region and the donor pool"),
    code("show.trends(ctx)"),
    md("## 3. Single-country designs: synthetic control (with placebo inference), synthetic DiD, interrupted time series"),
    code("single = show.single_country(ctx)"),
    md("## 4. The country's cohort in the cross-country staggered estimates"),
    code("show.cohort_in_staggered(ctx)"),
    md("## 5. Results across outcomes"),
    code("show.results(ctx)"),
    md("## 6. Graded evidence"),
    code("show.grades(ctx)"),
    md("## 7. Caveats from the data"),
    code("show.caveats(ctx)"),
    code("show.methods_appendix(ctx)\nshow.finish(ctx);"),
]

CROSS = [
    code("""
# Parameters (Papermill injects the values of a run below this cell)
intervention = "rti_law"
measures = ["wgi.cc", "vdem.v2x_partipdem"]
years = None
designs = ["twfe", "cs", "sun-abraham", "imputation"]
variant = None
seed = 0
horizon = 5
figures = None
output_dir = None
""", tags=["parameters"]),
    code(SETUP + """
ctx = show.start("cross-country", output_dir=output_dir, intervention=intervention, measures=measures, years=years,
                 designs=designs, variant=variant, seed=seed, horizon=horizon, figures=figures)
show.title_block(ctx)
"""),
    md("## 1. The intervention and its adoption cohorts"),
    code("show.intervention(ctx)\nshow.cohorts(ctx)"),
    md("## 2. Event studies side by side (CS, Sun–Abraham, imputation, TWFE) and pre-trend tests"),
    code("show.staggered(ctx)"),
    md("## 3. Graded evidence (the same grades as `ogimpact assess`)"),
    code("show.grades(ctx)"),
    md("## 4. Treatments that switch off or vary in intensity (dCDH, non-absorbing LP-DiD, continuous dose)"),
    code("show.switching_and_dose(ctx)"),
    md("## 5. Heterogeneity by region and income group"),
    code("show.heterogeneity(ctx)"),
    md("## 6. Results across outcomes"),
    code("show.results(ctx)"),
    md("## 7. Caveats from the data"),
    code("show.caveats(ctx)"),
    code("show.methods_appendix(ctx)\nshow.finish(ctx);"),
]

EVIDENCE = [
    code("""
# Parameters (Papermill injects the values of a run below this cell)
measures = []
seed = 0
horizon = 5
figures = None
output_dir = None
""", tags=["parameters"]),
    code(SETUP + """
ctx = show.start("evidence", output_dir=output_dir, measures=measures, seed=seed, horizon=horizon,
                 figures=figures)
show.title_block(ctx)
"""),
    md("## Evidence map and pooled estimates for every intervention x measure"),
    code("show.evidence_review(ctx)"),
    code("show.methods_appendix(ctx)\nshow.finish(ctx);"),
]


def notebooks() -> dict:
    """{file name: notebook node} of every report notebook (what ``write`` puts in notebooks/)."""
    out = {}
    for name, cells in (("country_report.ipynb", COUNTRY), ("cross_country.ipynb", CROSS),
                        ("evidence_review.ipynb", EVIDENCE)):
        nb = nbf.v4.new_notebook()
        nb.cells = [nbf.from_dict(dict(c)) for c in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        for i, c in enumerate(nb.cells):  # deterministic cell ids
            c["id"] = f"cell-{i:02d}"
        out[name] = nb
    return out


def write() -> None:
    for name, nb in notebooks().items():
        path = ROOT / "notebooks" / name
        path.parent.mkdir(exist_ok=True)
        nbf.write(nb, str(path))
        print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    write()
