"""Draw a contact sheet of the page screenshots: one image per language and width.

tests/e2e/test_every_page_browser.py saves each page to test-artifacts/pages/<language>-<width>/;
this lays them out in a grid (an HTML page rendered by Debian's Chromium through Playwright, so no
imaging library is needed) and writes docs/screenshots/<language>-<width>.jpg.

Run by `make screenshots`, which runs that test first; or alone, on the screenshots already there:
    .venv/bin/python scripts/contact_sheet.py
"""

import html
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "test-artifacts" / "pages"
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# A thumbnail per page: a phone's page at 40 %, a laptop's at 20 %, cropped below the first
# screen and a half, which is where a page shows what it is.
TILE = {"390": (156, 500), "1280": (256, 240)}
COLUMNS = {"390": 10, "1280": 7}


def sheet_html(directory: Path, width: str) -> str:
    tile_width, tile_height = TILE[width]
    tiles = []
    for shot in sorted(directory.glob("*.png")):
        tiles.append(
            f'<figure><div class="shot"><img src="{shot.as_uri()}" alt=""></div><figcaption>'
            f"{html.escape(shot.stem)}</figcaption></figure>"
        )
    language = directory.name.split("-")[0]
    title = f"Quorum · {language.upper()} · {width} px · {len(tiles)} pages"
    return f"""<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; padding: 16px; background: #e9edf4; font: 12px system-ui, sans-serif;
  width: max-content; }}
h1 {{ font-size: 18px; margin: 0 0 12px; color: #1d2330; }}
.grid {{ display: grid; gap: 12px;
  grid-template-columns: repeat({COLUMNS[width]}, {tile_width}px); }}
figure {{ margin: 0; }}
.shot {{ width: {tile_width}px; height: {tile_height}px; overflow: hidden; background: #fff;
  border: 1px solid #c5ccd8; }}
img {{ display: block; width: 100%; }}
figcaption {{ margin-top: 3px; color: #5b6475; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; width: {tile_width}px; }}
</style><h1>{html.escape(title)}</h1><div class="grid">{"".join(tiles)}</div>"""


def main() -> int:
    directories = sorted(d for d in PAGES.glob("*-*") if d.is_dir())
    if not directories:
        print(f"No screenshots in {PAGES}: run `make screenshots`.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 800, "height": 600})
        for directory in directories:
            width = directory.name.split("-")[1]
            source = PAGES / f"{directory.name}.html"
            source.write_text(sheet_html(directory, width), encoding="utf-8")
            page.goto(source.as_uri())
            target = OUT / f"{directory.name}.jpg"
            page.screenshot(path=str(target), full_page=True, type="jpeg", quality=80)
            print(target.relative_to(ROOT))
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
