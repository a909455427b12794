"""The demo's carrier rate table (the same as examples/carriers/*.csv, a test keeps them
equal): a parcel carrier's standard and express services across Germany and a few
neighbours, and a same-day courier in Berlin (postal codes 10…) and within 25 km."""

from __future__ import annotations

__all__ = ["DEMO_RATES"]

DEMO_RATES = {
    "services": """\
carrier,service,name,tracking_prefix
PARCEL,standard,Parcel Standard,PS
PARCEL,express,Parcel Express,PS
COURIER,sameday,City Courier same day,CC
""",
    "zones": """\
zone,country,postal_prefix,min_km,max_km
LOCAL,DE,10,,
NEAR,DE,,0,25
DOMESTIC,DE,,,
EU,AT,,,
EU,BE,,,
EU,FR,,,
EU,NL,,,
EU,PL,,,
""",
    "rates": """\
carrier,service,zone,max_weight_g,price,transit_days
PARCEL,standard,LOCAL,2000,4.49,2
PARCEL,standard,LOCAL,10000,6.99,2
PARCEL,standard,LOCAL,31500,12.99,2
PARCEL,standard,NEAR,31500,12.99,2
PARCEL,standard,DOMESTIC,2000,4.99,3
PARCEL,standard,DOMESTIC,10000,7.49,3
PARCEL,standard,DOMESTIC,31500,13.99,3
PARCEL,standard,EU,2000,9.99,5
PARCEL,standard,EU,10000,15.99,5
PARCEL,standard,EU,31500,29.99,6
PARCEL,express,LOCAL,10000,9.99,1
PARCEL,express,NEAR,10000,9.99,1
PARCEL,express,DOMESTIC,2000,10.99,1
PARCEL,express,DOMESTIC,10000,14.99,1
PARCEL,express,DOMESTIC,31500,24.99,1
PARCEL,express,EU,10000,24.99,2
PARCEL,express,EU,31500,44.99,2
COURIER,sameday,LOCAL,5000,7.99,0
COURIER,sameday,LOCAL,15000,11.99,0
COURIER,sameday,NEAR,15000,11.99,0
""",
}
