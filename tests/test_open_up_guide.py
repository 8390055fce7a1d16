"""The Mexico Open Up Guide pilot as an estimable single-treated-unit case.

Facts checked against the bundled record (data/raw/open_up_guide/mexico_open_up_guide_pilot_facts.csv,
from opendatacharter.net and the ITU WSIS stocktaking entry): window 2017-07-17 to 2018-04-30,
72 data resources identified, 47 datasets released.
"""
import warnings

import pytest

from ogimpact import interventions as I
from ogimpact.estimation import estimate, registry_donors, registry_panel, registry_treat_time
from ogimpact.reports import sections


def test_timing_has_mexico_and_never_treated_donors():
    t = I.timing("open_up_guide")
    assert I.get("open_up_guide").default_variant == "released"
    mex = t[t.unit == "MEX"].iloc[0]
    assert mex["cohort"] == 2018 and mex["adopted"] == 2017 and mex["in_force"] == 2018
    assert mex["datasets_released"] == 47 and mex["data_resources_identified"] == 72
    others = t[t.unit != "MEX"]
    assert len(others) >= 190 and (others["cohort"] == 0).all() and not others["treated"].any()
    assert I.timing("open_up_guide", "pilot").set_index("unit").loc["MEX", "cohort"] == 2017
    assert set(I.get("open_up_guide").designs) == {"synth", "sdid", "its"}


def test_synth_runs_with_never_treated_donors_and_placebos():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = registry_panel("synth", measure="ti.cpi", intervention="open_up_guide")
        assert registry_treat_time(p, "MEX") == 2018
        donors, excluded = registry_donors(p, treated="MEX")
        assert len(donors) > 100 and not excluded["adopted_in_window"]
        r = estimate("synth", p, treated="MEX", treat_time=2018, donors=donors, placebo=("space",), n_jobs=1)
    assert r.placebo["n_placebos"] == len(donors)
    assert 0 < r.placebo["p_value"] <= 1
    assert abs(sum(w["weight"] for w in r.tables["weights"]) - 1) < 1e-6


def test_outcome_ending_before_treatment_says_why():
    r = sections.single_country_designs("MEX", "open_up_guide", "odb.score", designs=("its", "synth"))
    for d in ("its", "synth"):
        assert r[d]["status"] == "not estimable"
        assert "ends in 2016, before MEX's treatment year 2018" in r[d]["reason"]


@pytest.mark.parametrize("measure", ["wgi.cc", "vdem.v2x_pubcorr"])
def test_two_designs_estimate_on_corruption_outcomes(measure):
    r = sections.single_country_designs("MEX", "open_up_guide", measure, designs=("sdid", "its"),
                                        sdid_placebo_reps=20)
    assert r["sdid"].n_treated_units == 1 and r["sdid"].se > 0
    assert r["its"].se > 0


def test_staggered_designs_are_refused_with_the_reason():
    from ogimpact.errors import DesignError

    with pytest.raises(DesignError, match="does not apply to intervention 'open_up_guide'.*synth, sdid, its"):
        registry_panel("cs", measure="wgi.cc", intervention="open_up_guide")
