"""Issue 10, remaining sourcing gaps (session data10, sources read 2026-12-02; each also in the row's citation columns).

- Tajikistan: the access statute 'On the Right of Access to Information' was signed by President Rahmon in August 2008
  (en.unesco.kz, 2009-05-27; law.ungovr.org dates it 2008); the RTI Rating's 'First adopted' 2002 is the general Law
  'On Information' of 10 May 2002 (mmih.tj amending law; nansmit.tj chamber resolutions of 10 and 23 April 2002).
- Trinidad and Tobago: 'no longer considered an OGP participating country effective 6 December 2019', inactive since a
  2018 Steering Committee resolution (opengovpartnership.org/news/open-government-partnership-rescinds-trinidad-and-
  tobagos-membership).
- Pakistan: OGP 'has withdrawn Pakistan's membership status after keeping it inactive for one year' (CPDI statement of
  2022-03-18, pakngos.com.pk / bolnews.com; Dawn 2023); it never delivered an action plan.
- UK FOI statistics annual bulletins (gov.uk): 2021 51,507 ('an increase of 7,312 from 2020'; 2013 51,696), 2022 52,740,
  2023 70,475 requests to central-government monitored bodies.
- US DOJ OIP summaries of annual FOIA reports: FY2009 557,825 (foia.gov), FY2011 644,165, FY2012 651,254, FY2013 704,394
  (justice.gov OIP blog), FY2014 714,231 (beSpacific quoting the FY2014 summary), FY2010 597,415 (OpenTheGovernment table).
- India CIC annual reports: 2014-15 755,247 RTI applications (counterview.in, 2016); 2018-19 '13.70 lakh'
  (countryandpolitics.in, 2019-11-22).
"""
import warnings

import pandas as pd
import pytest

from ogimpact import data as D
from ogimpact import interventions as I
from ogimpact import measures as M
from ogimpact.errors import OgimpactWarning
from ogimpact.panel import build_panel


def _row(t, unit):
    return t.set_index("unit").loc[unit]


def test_tajikistan_cohort_is_the_2008_statute():
    adopted = _row(I.timing("rti_law"), "TJK")
    assert adopted["treated"] and adopted["cohort"] == 2008
    assert adopted["row_status"] == "sourced" and "statute" in adopted["cohort_basis"]
    # no in-force date was found: the in_force variant fills from the adoption year and says so
    inf = _row(I.timing("rti_law", "in_force"), "TJK")
    assert inf["cohort"] == 2008 and inf["cohort_filled_from"] == "adopted"
    # no row of the table is left on the unverified RTI Rating year
    laws = D.rti_laws()
    assert (laws["row_status"] != "rti_rating_only").all()


@pytest.mark.parametrize("unit, joined, exited, date, host", [
    ("TTO", 2012, 2019, "2019-12-06", "opengovpartnership.org/news/open-government-partnership-rescinds-trinidad"),
    ("PAK", 2016, 2022, "2022-03", "pakngos.com.pk/open-governments-partnership-has-withdrawn-pakistans-membership"),
])
def test_ogp_exits_after_2019(unit, joined, exited, date, host):
    r = _row(I.timing("ogp_member"), unit)
    assert r["treated"] and r["cohort"] == joined and r["exited"] == exited and r["exited_date"] == date
    assert host in r["exit_source"]


def test_exits_counted_and_switched_off_in_panels():
    t = I.timing("ogp_member")
    ex = t.dropna(subset=["exited"]).set_index("unit")["exited"].astype(int).to_dict()
    assert ex == {"HUN": 2016, "TZA": 2017, "TUR": 2017, "TTO": 2019, "PAK": 2022, "LUX": 2023}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        p = build_panel(["wgi.cc"], "ogp_member", years=(2010, 2023))
    assert any(isinstance(x.message, OgimpactWarning) and x.message.code == "treatment_exit" for x in w)
    f = p.frame.set_index(["unit", "year"])
    assert f.loc[("TTO", 2018), "treat"] == 1 and f.loc[("TTO", 2019), "treat"] == 0
    assert f.loc[("PAK", 2021), "treat"] == 1 and f.loc[("PAK", 2022), "treat"] == 0
    assert f.loc[("PAK", 2022), "cohort"] == 2016  # absorbing designs keep the join cohort (intention to treat)


def test_official_request_counts():
    v = D.rti_request_volumes().set_index(["iso3", "indicator", "year"])["value"]
    uk = "requests_foi_central_government"
    assert v[("GBR", uk, 2021)] == 51507 and v[("GBR", uk, 2022)] == 52740 and v[("GBR", uk, 2023)] == 70475
    assert v[("GBR", uk, 2013)] == 51696 and v[("GBR", uk, 2020)] == 51507 - 7312
    us = "requests_foia_federal"
    assert {y: v[("USA", us, y)] for y in range(2009, 2015)} == {
        2009: 557825, 2010: 597415, 2011: 644165, 2012: 651254, 2013: 704394, 2014: 714231}
    assert v[("IND", "requests_rti_central_public_authorities", 2014)] == 755247
    assert v[("IND", "requests_rti_central_public_authorities", 2018)] == 1370000
    f = D.rti_request_volumes()
    new = f[f["iso3"].isin(["GBR", "USA", "IND"])]
    assert len(new) == 13 and new["source_url"].str.startswith("http").all() and (new["accessed"] == "2026-12-02").all()
    # derived rows say how they were derived
    assert new.loc[new["derived"] != "no", "derived"].str.startswith("yes:").all()
    assert set(new.loc[new["derived"] != "no", "year"]) == {2018, 2020}


def test_new_use_measures_in_the_knowledge_domain():
    ids = {m.id for m in M.catalogue("knowledge/awareness")}
    assert {"rti.requests_uk_foi", "rti.requests_us_foia", "rti.requests_india_rti"} <= ids
    us = M.load(["rti.requests_us_foia"]).set_index("year")["value"]
    assert us[2013] == 704394 and list(M.load(["rti.requests_uk_foi"])["unit"].unique()) == ["GBR"]


def test_chile_2011_council_awareness_is_a_bound_not_a_point():
    # CPLT Encuesta Nacional 2011: 'no más del 15% de los encuestados tiene conocimiento' of the CPLT (president
    # Ferreiro, legal-news item of 2012-01-06) -> kept as an upper bound, outside the share_heard_of_council series
    s = D.rti_awareness_surveys().set_index(["iso3", "year", "indicator"])["value"]
    assert s[("CHL", 2011, "share_heard_of_council_at_most")] == 15.0
    council = M.load(["rti.share_aware_council"])
    assert set(council.loc[council["unit"] == "CHL", "year"]) == {2010}
