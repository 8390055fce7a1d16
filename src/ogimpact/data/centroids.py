"""Country centroids (one point per ISO3 country) for Conley spatial standard errors.

Source: Google DSPL canonical ``countries.csv`` (BSD-3-Clause), bundled under
``data/raw/country_centroids/`` with its provenance.  ISO2 codes are mapped to ISO3 through the
bundled country reference (and ``XK`` → ``XKX`` for Kosovo); rows without coordinates or without an
ISO3 code (``AN``, ``GZ``, ``UM``) are left out.  Countries the table lacks (South Sudan) come from
``supplement.csv``, one cited row each.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import DesignError, OgimpactWarning

from ._io import cached_frame, read_csv

__all__ = ["country_centroids", "country_coords", "SOURCE"]

SOURCE = "Google DSPL canonical country centroids (data/raw/country_centroids, BSD-3-Clause)"


@cached_frame
def country_centroids(root: str) -> pd.DataFrame:
    """``iso3, lat, lon, name`` (decimal degrees) for every country with a bundled centroid."""
    from .countries import country_reference

    c = read_csv(root, "country_centroids", "google_dspl_countries.csv", keep_default_na=False, dtype=str)
    ref = country_reference()[["iso2", "iso3"]]
    iso = dict(zip(ref["iso2"], ref["iso3"]))
    iso.setdefault("XK", "XKX")
    c["iso3"] = c["country"].map(iso)
    c["lat"] = pd.to_numeric(c["latitude"], errors="coerce")
    c["lon"] = pd.to_numeric(c["longitude"], errors="coerce")
    c = c.dropna(subset=["iso3", "lat", "lon"])
    # countries the DSPL table lacks, each row cited in supplement.csv (PROVENANCE.md)
    s = read_csv(root, "country_centroids", "supplement.csv", keep_default_na=False, dtype=str)
    s = s.assign(lat=pd.to_numeric(s["latitude"]), lon=pd.to_numeric(s["longitude"]))
    c = pd.concat([c[~c["iso3"].isin(s["iso3"])], s], ignore_index=True)
    return c[["iso3", "lat", "lon", "name"]].sort_values("iso3").reset_index(drop=True)


def country_coords(units) -> np.ndarray:
    """(n, 2) latitude/longitude of ISO3 country units from the bundled centroids (DesignError if any is unknown)."""
    c = country_centroids().set_index("iso3")
    u = pd.Series(np.asarray(units)).astype(str).str.upper()
    unknown = sorted(set(u) - set(c.index))
    if unknown:
        raise DesignError(f"--vcov conley without --lat/--lon needs ISO3 country units with a bundled centroid; "
                          f"{len(unknown)} unit(s) have none ({', '.join(unknown[:8])}{' ...' if len(unknown) > 8 else ''})"
                          "; leave them out with --units or give --lat/--lon columns instead.")
    warnings.warn(OgimpactWarning("conley_country_centroids",
                                  f"Conley distances use one point per country: {SOURCE}."))
    return c.loc[u, ["lat", "lon"]].to_numpy(float)
