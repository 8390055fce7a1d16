"""Run py-did-multiplegt-dyn 0.1.9 and moderndid 0.4.1 on Favara-Imbs; dump full-precision JSON."""
import json, os, sys, warnings, time
warnings.filterwarnings("ignore")
import pandas as pd, numpy as np, polars as pl
import os
df = pd.read_csv("/work/shared/reference/favara_imbs_dcdh/data.csv")
if os.environ.get("Y0"): df = df[df.year >= int(os.environ["Y0"])].reset_index(drop=True)
specs = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers_specs.json")))
which, names = sys.argv[1], sys.argv[2:]
out = {}
for name in names:
    kw = dict(specs[name]); t0 = time.time()
    try:
        if which == "pydyn":
            from did_multiplegt_dyn.did_multiplegt_dyn import DidMultiplegtDyn
            m = DidMultiplegtDyn(df=pl.from_pandas(df), outcome="Dl_vloans_b", group="county", time="year", treatment="inter_bra", **kw)
            m.fit(); rr = m.result["did_multiplegt_dyn"]
            E = rr["Effects"]; A = rr["ATE"]; P = rr.get("Placebos")
            o = {"ate": {"estimate": float(A["Estimate"].iloc[0]), "se": float(A["SE"].iloc[0])},
                 "effects": [{"event_time": i + 1, "estimate": float(E["Estimate"].iloc[i]), "se": float(E["SE"].iloc[i]),
                              "n": float(E["N"].iloc[i]), "switchers": float(E["Switchers"].iloc[i])} for i in range(len(E))],
                 "placebos": [] if P is None else [{"event_time": -(i + 1), "estimate": float(P["Estimate"].iloc[i]), "se": float(P["SE"].iloc[i])} for i in range(len(P))],
                 "p_jointplacebo": float(rr["p_jointplacebo"]) if "p_jointplacebo" in rr else None}
        else:
            from moderndid.didinter.did_multiplegt import did_multiplegt
            ctl = kw.pop("controls", None)
            if ctl: kw["xformla"] = "~" + "+".join(ctl)
            r = did_multiplegt(df, yname="Dl_vloans_b", tname="year", idname="county", dname="inter_bra", **kw)
            e, p = r.effects, r.placebos
            o = {"ate": {"estimate": float(r.ate.estimate), "se": float(r.ate.std_error)},
                 "effects": [{"event_time": int(h), "estimate": float(b), "se": float(s), "n": float(n), "switchers": float(sw)}
                             for h, b, s, n, sw in zip(e.horizons, e.estimates, e.std_errors, e.n_observations, e.n_switchers)],
                 "placebos": [] if p is None else [{"event_time": int(h), "estimate": float(b), "se": float(s)} for h, b, s in zip(p.horizons, p.estimates, p.std_errors)],
                 "p_jointplacebo": None if r.placebo_joint_test is None else float(r.placebo_joint_test["p_value"] if isinstance(r.placebo_joint_test, dict) else r.placebo_joint_test.p_value)}
    except Exception as ex:
        import traceback; traceback.print_exc(); o = {"error": repr(ex)}
    o["seconds"] = time.time() - t0
    out[name] = o
    print(name, json.dumps(o)[:300], flush=True)
json.dump(out, open(f"/tmp/h14ref/{which}{os.environ.get('Y0','')}_{'_'.join(names)}.json", "w"), indent=1)
