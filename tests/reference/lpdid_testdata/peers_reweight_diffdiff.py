"""diff-diff 3.13.0 LPDiD(reweight=True) on lpdidtestdata1 (window -5:10, pooled 0..10, cluster unit)."""
import json, warnings, time
warnings.filterwarnings("ignore")
import pandas as pd, numpy as np
from diff_diff import LPDiD
df = pd.read_csv("/work/wt/h14/tests/reference/lpdid_testdata/data.csv")
out = {}
for name, kw in {"rw_m5_10": dict(reweight=True), "rw_pmd_max": dict(reweight=True, pmd="max"), "rw_pmd_3": dict(reweight=True, pmd=3)}.items():
    t0 = time.time()
    r = LPDiD(pre_window=5, post_window=10, cluster="unit", **kw).fit(df, outcome="Y", unit="unit", time="time", treatment="treat", post_pooled=(0, 10))
    es = r.event_study
    rows = [{"event_time": int(h), "estimate": float(b), "se": float(s), "n": float(n)} for h, b, s, n in zip(es["horizon"], es["coefficient"], es["se"], es["n_obs"])]
    out[name] = {"options": {k: v for k, v in kw.items()}, "event_study": rows, "pooled_post": {"estimate": float(r.att), "se": float(r.se)},
                 "pooled_df": repr(r.pooled)[:800], "seconds": time.time() - t0}
    print(name, out[name]["pooled_post"])
json.dump(out, open("/tmp/h14ref/lpdid_rw_diffdiff.json", "w"), indent=1)
