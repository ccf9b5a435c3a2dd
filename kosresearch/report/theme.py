"""The one figure theme of kosresearch reports, with a CJK font that is found offline.

Chinese labels must render as glyphs on a fresh machine. :func:`resolve_cjk_font`
first looks for a CJK font installed on the system; if there is none it
registers the Noto Sans CJK SC file shipped by the ``mplfonts`` wheel (a
project dependency, SIL Open Font License). It never runs ``mplfonts init``
(which rewrites matplotlib's data folder and deletes its cache) and never uses
the SimHei file that wheel also carries (its licence does not allow
redistribution).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

__all__ = ["CJK_FAMILIES", "PALETTE", "resolve_cjk_font", "set_theme"]

#: Font families known to cover Simplified Chinese, in order of preference.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Sarasa Gothic SC",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
)

_MPLFONTS_FILE = "NotoSansCJKsc-Regular.otf"

#: Qualitative palette of the theme (colour-blind safe, seaborn "colorblind").
PALETTE = "colorblind"


def _mplfonts_font_file() -> Path:
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no CJK font is installed and the 'mplfonts' package is missing; "
            "reinstall the project (pip install -e .) or install a CJK font such as fonts-noto-cjk"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / _MPLFONTS_FILE
    if not path.is_file():
        raise RuntimeError(f"the mplfonts package has no {_MPLFONTS_FILE} at {path}")
    return path


@lru_cache(maxsize=2)
def resolve_cjk_font(*, use_system: bool = True) -> str:
    """Return the name of a font family that renders Simplified Chinese.

    Parameters
    ----------
    use_system : bool, default True
        Look for an installed system font first. With ``False`` the font
        shipped by ``mplfonts`` is registered and used directly.

    Returns
    -------
    str
        A family name from :data:`CJK_FAMILIES`, registered with matplotlib's
        font manager in this process.

    Raises
    ------
    RuntimeError
        If no system CJK font is installed and ``mplfonts`` is missing.
    """
    from matplotlib import font_manager

    if use_system:
        installed = {
            f.name for f in font_manager.fontManager.ttflist if "mplfonts" not in Path(f.fname).parts
        }
        for family in CJK_FAMILIES:
            if family in installed:
                return family
    path = _mplfonts_font_file()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def set_theme(*, font_scale: float = 1.0, use_system_font: bool = True) -> str:
    """Apply the kosresearch figure theme and return the CJK font family used.

    Sets the seaborn ``whitegrid`` theme with the :data:`PALETTE` palette, a
    CJK-capable sans-serif font (see :func:`resolve_cjk_font`), a real minus
    sign that the CJK font can draw, and, inside IPython, PNG inline figures
    (self-contained and small in HTML reports).

    Parameters
    ----------
    font_scale : float, default 1.0
        Passed to :func:`seaborn.set_theme`.
    use_system_font : bool, default True
        Prefer an installed system CJK font over the one shipped by ``mplfonts``.

    Returns
    -------
    str
        The font family in use.
    """
    import seaborn as sns

    family = resolve_cjk_font(use_system=use_system_font)
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        font="sans-serif",
        font_scale=font_scale,
        rc={
            "font.sans-serif": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.figsize": (8.0, 4.0),
        },
    )
    _inline_png()
    return family


def _inline_png() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
