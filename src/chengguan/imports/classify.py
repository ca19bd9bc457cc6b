"""First guesses for the editable mappings: request type → small class, channel → case source.

Pure: standard library only. These only seed the mapping rows the first time a value is
seen; an administrator corrects them in the admin and later imports follow the rows. Every
seeded row records which rule chose it (or that none did and the city's fallback class was
used), and the import's summary lists them.
"""

from __future__ import annotations

import re

# (pattern over the lower-case type text, small class code). The first match wins, so the
# narrower patterns come first.
TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"dead animal|animal carcass|dead bird|carcass", "E0117"),
    (r"illegal animal|rooster|livestock|poultry", "E0118"),
    (r"graffiti", "E0201"),
    (r"flyer|handbill|illegal posting", "E0204"),
    (r"illegal sign|sign on public property|posted sign|snipe", "E0202"),
    (r"abandoned vehicle|derelict vehicle|vehicle removal|abandoned bike", "E0107"),
    (r"bulky|bulk |bulk$|white goods|appliance|furniture|mattress|electronic waste|e-waste|metal/household",
     "E0108"),
    (r"illegal dumping|dumping|debris removal|fire debris|muck", "E0103"),
    (r"litter basket|trash can|corner\) trash|trash/recycling container|litter bin|dumpster", "C0305"),
    (r"dirty street|dirty alley|street sweeping|street cleaning|mechanical street|dirty condition|cleaning|"
     r"sanitation condition|spill|debris in roadway", "E0104"),
    (r"missed collection|mixed refuse|garbage|trash|refuse|rubbish|sanitation|recycling|bag pickup|hgw|"
     r"clean up|cleanup|litter", "E0102"),
    (r"homeless|encampment|panhandl|vagran", "E0502"),
    (r"vendor|vending|peddl", "E0501"),
    (r"parking meter|muni meter|meter complaint", "C0202"),
    (r"blocked driveway|illegal parking|parking complaint|parking|double parked", "E0505"),
    (r"traffic signal|signal repair|traffic light", "C0210"),
    (r"street ?light|stlight|lamp|lighting", "C0118"),
    (r"street sign|traffic sign|sign damaged|sign new|sign installation|sign structure", "C0209"),
    (r"pothole|street repair|street condition|sidewalk|footway|curb|alley reconstruction|street cut|"
     r"steel plate|road repair|roadway|pavement|alleys", "E0110"),
    (r"bridge", "C0208"),
    (r"snow|icy|ice ", "E0407"),
    (r"flooded street|street flooding|ponding", "E0406"),
    (r"hydrant", "C0113"),
    (r"manhole|meter cover|access cover|inlet grate", "C0101"),
    (r"sewer|storm inlet|storm drain|catch basin|water in basement|inlet choke|damaged inlet", "E0404"),
    (r"water leak|water main|no water|water system|low pressure|water meter leak|broken pipe", "E0402"),
    (r"tree|limb|branch|stump", "C0402"),
    (r"grass|weed|mowing|lawn|overgrown|park maintenance|park cleaning|vacant lot", "E0106"),
    (r"construction noise|noise - construction|after hours work", "E0301"),
    (r"commercial noise|noise - commercial|noise - street|noise - vehicle|loud music|noise", "E0508"),
    (r"dust", "E0302"),
    (r"illegal conversion|illegal construction|work without permit|building permit|building/use|zoning",
     "E0101"),
    (r"construction|contractor", "E0399"),
    (r"burning|open fire|smoke", "E0115"),
    (r"odor|cooking fume", "E0116"),
)
_COMPILED = tuple((re.compile(pattern), code) for pattern, code in TYPE_RULES)


def classify_type(value: str) -> tuple[str | None, str]:
    """(small class code or None, the rule that chose it). An agency prefix such as
    "SW-" or "TRM-" does not take part in the match."""
    text = value.lower().strip()
    text = re.sub(r"^[a-z]{2,5}-(?=[a-z])", "", text)
    for pattern, code in _COMPILED:
        found = pattern.search(text)
        if found:
            return code, f"关键词 keyword “{found.group(0).strip()}”"
    return None, "无匹配，归入兜底小类 · no rule matched: fallback class"


# Channels, lower case → case source. Phone-like channels are the hotline; staff-made
# requests (a sanitation driver's own report, "Internal", "System") are the city's own
# patrols; everything online is Open311.
HOTLINE_WORDS = ("phone", "call", "voicemail", "fax", "mail", "walk-in", "walk in", "letter", "unknown", "other")
STAFF_WORDS = ("internal", "system", "driver self report", "proactive", "employee", "field")
ONLINE_WORDS = ("online", "mobile", "web", "api", "app", "self service", "email", "e-mail", "twitter", "social")


def classify_channel(value: str) -> tuple[str, str]:
    """(case source, why) for an export's channel value."""
    text = " ".join(value.lower().split())
    if not text:
        return "hotline", "空渠道按热线 · empty channel: hotline"
    if any(word == text or word in text for word in STAFF_WORDS):
        return "inspector", "城市自行发现 · found by the city's own staff"
    if text in {"email", "e-mail"} or any(word in text for word in ONLINE_WORDS):
        return "open311", "线上渠道 · online channel"
    if any(word in text for word in HOTLINE_WORDS) or "council" in text:
        return "hotline", "电话等渠道 · phone and the like"
    return "hotline", "未识别，按热线 · not recognised: hotline"
