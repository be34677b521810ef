"""Postal addresses, validated field by field: ``shipping_address.country`` and so on."""

from __future__ import annotations

from events.documents import Address

#: ISO 3166-1 alpha-2: the 249 officially assigned codes.
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

REQUIRED = ("name", "line1", "city", "postal_code")
MAX_LENGTH = 200


def address_problems(prefix: str, address: Address | None) -> list[tuple[str, str]]:
    """Every problem of one address, each naming its field (``prefix.field``)."""
    if address is None:
        return []
    problems: list[tuple[str, str]] = []
    for name in REQUIRED:
        if not (getattr(address, name) or "").strip():
            problems.append((f"{prefix}.{name}", "must not be empty"))
    for name in ("name", "line1", "line2", "city", "state", "postal_code"):
        value = getattr(address, name)
        if value is not None and len(value) > MAX_LENGTH:
            problems.append((f"{prefix}.{name}", f"must be at most {MAX_LENGTH} characters"))
    if address.country not in COUNTRIES:
        problems.append((f"{prefix}.country",
                         "must be an ISO 3166-1 alpha-2 country code in upper case, e.g. US"))
    return problems
