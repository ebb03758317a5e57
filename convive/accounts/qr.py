"""QR codes as inline SVG: drawn by the server, so the enrolment page needs no script."""

from io import BytesIO

import qrcode
import qrcode.image.svg


def qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")
