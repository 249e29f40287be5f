"""French dates, one format everywhere: "27 nov. 2026" and "27 nov. 2026 à 20:24".

The "short" formats are the same, so that a template (ours or allauth's) asking for either
shows what every other page shows."""

# N: the abbreviations French writes ("nov.", "mars", "juil."); M would give "Nov", "Jui".
DATE_FORMAT = "j N Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = r"j N Y \à H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
