"""English dates, one format everywhere: "27 Nov 2026" and "27 Nov 2026, 20:24".

The "short" formats are the same, so that a template (ours or allauth's) asking for either
shows what every other page shows."""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
