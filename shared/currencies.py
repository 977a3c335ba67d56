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


_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
# ISO 4217 minor units that are not 2 (the list one's "Minor unit" column, 2025).
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    "CLF": 4,
    "UYW": 4,
}


def minor_unit_exponent(code: str) -> int:
    """How many decimal places the currency's minor unit has: an `amount` in minor units
    divided by 10 ** this is the amount in major units (2 for EUR, 0 for JPY, 3 for KWD)."""
    return _EXPONENTS.get(code, 2)
