"""Photos on cases: verified with Pillow, stored three ways (original for staff with its EXIF,
a re-encoded public copy without metadata, a thumbnail), GPS read from EXIF."""

from __future__ import annotations

import io
import warnings
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from chengguan.cases.models import Attachment, Case
from chengguan.errors import Invalid, TooLarge

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 60_000_000  # a 60-megapixel photo is already far beyond any phone's
THUMB_SIZE = (320, 320)
PUBLIC_MAX_SIDE = 2048


def _rational(value) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _gps(image: Image.Image) -> tuple[float | None, float | None]:
    try:
        gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:
        return None, None
    if not gps or 2 not in gps or 4 not in gps:
        return None, None
    try:
        lat = sum(_rational(v) / 60**i for i, v in enumerate(gps[2]))
        lon = sum(_rational(v) / 60**i for i, v in enumerate(gps[4]))
    except (TypeError, ValueError, ZeroDivisionError):
        return None, None
    if gps.get(1) == "S":
        lat = -lat
    if gps.get(3) == "W":
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return round(lon, 7), round(lat, 7)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, format=fmt, quality=85) if fmt in ("JPEG", "WEBP") else image.save(out, format=fmt)
    return out.getvalue()


def read_photo(data: bytes) -> tuple[Image.Image, str]:
    """Open and verify an image; raise Invalid naming `file` when it is not a photo we take."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            if fmt not in FORMATS:
                raise Invalid(
                    "只接受 JPEG、PNG 或 WebP 图片", "Only JPEG, PNG or WebP images are accepted", field="file"
                )
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid("图片像素过多", "The image has too many pixels", field="file")
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except Invalid:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise Invalid("文件不是有效的图片", "The file is not a valid image", field="file") from None
    return image, fmt


def add_photo(case: Case, *, data: bytes, filename: str, stage: str, actor, now: datetime | None = None) -> Attachment:
    if len(data) > settings.PHOTO_MAX_BYTES:
        limit = settings.PHOTO_MAX_BYTES // (1024 * 1024)
        raise TooLarge(f"图片超过 {limit} MB", f"The photo is larger than {limit} MB", field="file")
    if not data:
        raise Invalid("文件为空", "The file is empty", field="file")
    if stage not in Attachment.Stage.values:
        raise Invalid(
            "stage 应为 report、handle、check 或 follow_up",
            "Field 'stage' must be report, handle, check or follow_up",
            field="stage",
        )
    image, fmt = read_photo(data)
    content_type, ext = FORMATS[fmt]
    lon, lat = _gps(image)
    upright = ImageOps.exif_transpose(image)
    public = upright.copy()
    public.thumbnail((PUBLIC_MAX_SIDE, PUBLIC_MAX_SIDE))
    thumb = upright.copy()
    thumb.thumbnail(THUMB_SIZE)
    stem = f"{stage}-{timezone.now():%H%M%S%f}"
    with transaction.atomic():
        attachment = Attachment(
            case=case,
            stage=stage,
            content_type=content_type,
            size=len(data),
            width=image.width,
            height=image.height,
            gps_lon=lon,
            gps_lat=lat,
            uploaded_by=actor,
            created_at=now or timezone.now(),
        )
        attachment.file.save(f"{stem}.{ext}", ContentFile(data), save=False)
        attachment.public_file.save(f"{stem}-public.{ext}", ContentFile(_encode(public, fmt)), save=False)
        attachment.thumb.save(f"{stem}-thumb.jpg", ContentFile(_encode(thumb, "JPEG")), save=False)
        attachment.save()
    return attachment
