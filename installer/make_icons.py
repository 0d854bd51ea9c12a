"""Draw the application icon and write it as PNG (Linux), ICO (Windows) and ICNS (macOS).

Usage: python installer/make_icons.py [OUTDIR]   (default: installer/icons)

Drawn with Qt (QPainter), so no image tool is needed; Qt's own image plugins write
the ICO and ICNS files on any platform.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

SIZE = 256


def draw(size: int = SIZE) -> Any:
    """The icon (a QImage): a liver with a bead cloud and a catheter, on a rounded tile."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QBrush, QColor, QImage, QLinearGradient, QPainter, QPainterPath, QPen

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 256, size / 256)
    tile = QLinearGradient(0, 0, 0, 256)
    tile.setColorAt(0, QColor("#1f4e79"))
    tile.setColorAt(1, QColor("#0f2a44"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(tile))
    painter.drawRoundedRect(QRectF(8, 8, 240, 240), 44, 44)
    liver = QPainterPath(QPointF(40, 120))
    liver.cubicTo(40, 70, 120, 52, 200, 64)
    liver.cubicTo(226, 68, 228, 96, 204, 110)
    liver.cubicTo(170, 130, 150, 170, 112, 196)
    liver.cubicTo(80, 216, 40, 180, 40, 120)
    painter.setBrush(QColor("#b5523b"))
    painter.drawPath(liver)
    painter.setBrush(QColor("#f2c14e"))
    for x, y, r in ((92, 120, 18), (132, 104, 11), (118, 148, 9)):
        painter.drawEllipse(QPointF(x, y), r, r)
    pen = QPen(QColor("#ffffff"), 7)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    catheter = QPainterPath(QPointF(214, 236))
    catheter.cubicTo(200, 190, 150, 180, 138, 128)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(catheter)
    painter.end()
    return image


def main() -> None:
    """Write tace-planner.png, .ico and .icns into the folder given (or installer/icons)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "icons"
    out.mkdir(parents=True, exist_ok=True)
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    image = draw()
    for suffix in ("png", "ico", "icns"):
        path = out / f"tace-planner.{suffix}"
        if not image.save(str(path)):
            raise SystemExit(f"error: {path}: Qt could not write this image format")
        print(path)
    del app


if __name__ == "__main__":
    main()
