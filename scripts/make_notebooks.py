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
import warnings
from ogimpact.errors import OgimpactWarning
# warnings are data: each estimate's diagnostics.warnings is shown beside it (reports.show), not as a stderr line
warnings.simplefilter("ignore", OgimpactWarning)
import matplotlib
matplotlib.use("Agg")
%matplotlib inline
import pandas as pd
from IPython.display import Markdown, display
import ogimpact
from ogimpact.reports import sections, show
from ogimpact.reports.context import ReportContext
pd.set_option("display.precision", 4)
pd.set_option("display.width", 160)
"""

COUNTRY = [
    md("# ogimpact country report"),
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
output_dir = None
""", tags=["parameters"]),
    code(SETUP + """
params = dict(country=country, intervention=intervention, measures=measures, years=years, designs=designs,
              variant=variant, donor_rule=donor_rule, placebo=placebo, seed=seed, horizon=horizon)
ctx = ReportContext(output_dir, kind="country", parameters=params)
show.title_block(ctx, country=country, intervention=intervention)
"""),
    md("## 1. The intervention and its timing"),
    code("""
show.intervention(ctx, intervention=intervention, country=country, variant=variant)
"""),
    md("## 2. Outcome trends: the country, its region and the donor pool"),
    code("""
show.trends(ctx, country=country, intervention=intervention, measures=measures, years=years, variant=variant)
"""),
    md("## 3. Single-country designs: synthetic control (with placebo inference), synthetic DiD, interrupted time series"),
    code("""
single = show.single_country(ctx, country=country, intervention=intervention, measures=measures, designs=designs,
                             years=years, variant=variant, donor_rule=donor_rule, placebo=placebo, seed=seed,
                             horizon=horizon)
"""),
    md("## 4. The country's cohort in the cross-country staggered estimates"),
    code("""
show.cohort_in_staggered(ctx, country=country, intervention=intervention, measures=measures, designs=designs,
                         years=years, variant=variant, seed=seed, horizon=horizon)
"""),
    md("## 5. Results across outcomes"),
    code("""
show.results(ctx)
"""),
    md("## 6. Graded evidence"),
    code("""
show.grades(ctx, country=country, intervention=intervention, measures=measures)
"""),
    md("## 7. Caveats from the data"),
    code("""
show.caveats(ctx, country=country, measures=measures)
ctx.save();
"""),
]

CROSS = [
    md("# ogimpact cross-country report"),
    code("""
# Parameters (Papermill injects the values of a run below this cell)
intervention = "rti_law"
measures = ["wgi.cc", "vdem.v2x_partipdem"]
years = None
designs = ["twfe", "cs", "sun-abraham", "imputation"]
variant = None
seed = 0
horizon = 5
output_dir = None
""", tags=["parameters"]),
    code(SETUP + """
params = dict(intervention=intervention, measures=measures, years=years, designs=designs, variant=variant, seed=seed,
              horizon=horizon)
ctx = ReportContext(output_dir, kind="cross-country", parameters=params)
show.title_block(ctx, country=None, intervention=intervention)
"""),
    md("## 1. The intervention and its adoption cohorts"),
    code("""
show.intervention(ctx, intervention=intervention, country=None, variant=variant)
show.cohorts(ctx, intervention=intervention, variant=variant)
"""),
    md("## 2. Event studies side by side (CS, Sun–Abraham, imputation, TWFE) and pre-trend tests"),
    code("""
show.staggered(ctx, intervention=intervention, measures=measures, designs=designs, years=years, variant=variant,
               seed=seed, horizon=horizon)
"""),
    md("## 3. Graded evidence (the same grades as `ogimpact assess`)"),
    code("""
show.grades(ctx, country=None, intervention=intervention, measures=measures)
"""),
    md("## 4. Heterogeneity by region and income group"),
    code("""
show.heterogeneity(ctx, intervention=intervention, measures=measures, years=years, variant=variant)
"""),
    md("## 5. Results across outcomes"),
    code("""
show.results(ctx)
"""),
    md("## 6. Caveats from the data"),
    code("""
show.caveats(ctx, country=None, measures=measures)
ctx.save();
"""),
]

EVIDENCE = [
    md("# ogimpact evidence review"),
    code("""
# Parameters (Papermill injects the values of a run below this cell)
measures = []
seed = 0
horizon = 5
output_dir = None
""", tags=["parameters"]),
    code(SETUP + """
ctx = ReportContext(output_dir, kind="evidence", parameters=dict(measures=measures, seed=seed, horizon=horizon))
show.title_block(ctx, country=None, intervention=None)
"""),
    md("## Evidence map and pooled estimates for every intervention x measure"),
    code("""
show.evidence_review(ctx, measures=measures, seed=seed, horizon=horizon)
ctx.save();
"""),
]


def write(name, cells):
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path = ROOT / "notebooks" / name
    path.parent.mkdir(exist_ok=True)
    # deterministic cell ids
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i:02d}"
    nbf.write(nb, str(path))
    print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    write("country_report.ipynb", COUNTRY)
    write("cross_country.ipynb", CROSS)
    write("evidence_review.ipynb", EVIDENCE)
