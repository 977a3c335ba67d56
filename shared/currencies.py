"""ISO 4217 currency codes a customer can be invoiced in: the active codes of the standard's
list one (2025), upper case, nothing else.

Left out on purpose: precious metals (`XAU`, `XAG`, `XPD`, `XPT`), bond-market units
(`XBA`-`XBD`), `XDR`, `XSU`, `XUA`, the testing code `XTS` and "no currency" `XXX` — none of
them is money an invoice is paid in. Funds codes (`BOV`, `CHE`, `CHW`, `CLF`, `COU`, `MXV`,
`USN`, `UYI`, `UYW`) stay: they are codes of the standard that a payment system may report.
A list rather than a dependency: it changes about once a year.
"""

from __future__ import annotations

_ACTIVE = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN
BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK
DJF DKK DOP DZD
EGP ERN ETB EUR
FJD FKP
GBP GEL GHS GIP GMD GNF GTQ GYD
HKD HNL HTG HUF
IDR ILS INR IQD IRR ISK
JMD JOD JPY
KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN
NAD NGN NIO NOK NPR NZD
OMR
PAB PEN PGK PHP PKR PLN PYG
QAR
RON RSD RUB RWF
SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
THB TJS TMT TND TOP TRY TTD TWD TZS
UAH UGX USD USN UYI UYU UYW UZS
VED VES VND VUV
WST
XAF XCD XCG XOF XPF
YER
ZAR ZMW ZWG ZWL
"""
INVOICE_CURRENCIES: frozenset[str] = frozenset(_ACTIVE.split())


def is_invoice_currency(code: str) -> bool:
    """True for an active ISO 4217 code an invoice can be in (upper case, as stored)."""
    return code in INVOICE_CURRENCIES
