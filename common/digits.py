"""Your own handwriting as MNIST input (04 --image, 10's page): any picture of one digit → 28×28 in [0, 1]."""
import os
import sys

import numpy as np


def open_picture(source, mode):
    """A picture file (a path, or a file object such as io.BytesIO(uploaded bytes)) as a PIL image
    in `mode` ("L": gray, "RGB"), upright, transparent parts on white paper.
    Raises ValueError with a readable message for anything that is not a picture."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(source) as picture:
            picture = ImageOps.exif_transpose(picture)  # phone photos store rotation separately
            if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
                # Drawing apps export ink on a transparent background: put it on white paper.
                paper = Image.new("RGBA", picture.size, "white")
                picture = Image.alpha_composite(paper, picture.convert("RGBA"))
            return picture.convert(mode)
    except FileNotFoundError:
        raise ValueError("找不到文件 / file not found")
    except IsADirectoryError:
        raise ValueError("这是文件夹，不是图片 / this is a folder, not a picture")
    except Image.DecompressionBombError as error:
        raise ValueError(f"图片太大，请缩小到几百像素宽再试 / picture too large; shrink it to a few "
                         f"hundred pixels and try again ({error})")
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        detail = f": {error}" if isinstance(source, (str, os.PathLike)) else ""  # (a file object's name says nothing)
        raise ValueError(f"不是图片文件（应为 PNG/JPG）/ not an image file (PNG/JPG expected){detail}")


def prepare_digit(source):
    """Turn any picture of one digit (a path or a file object) into a 28×28 MNIST-style array in [0, 1].

    The steps follow how MNIST itself was made: white ink on black, the digit scaled to fit a
    20×20 box (aspect ratio kept), then placed so its centre of mass is the image centre.
    Raises ValueError with a readable message for non-images and blank pictures.
    """
    from PIL import Image
    gray = np.asarray(open_picture(source, "L"), dtype=np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:  # light paper: invert so the ink is bright, as in MNIST
        gray = 255 - gray
    ink = np.clip(gray - np.median(border if np.median(border) <= 127 else 255 - border), 0, None)
    if ink.max() < 40:  # less than ~15% contrast anywhere: nothing written
        raise ValueError("图片里好像没有数字 / the picture looks blank (no digit found); use dark ink "
                         "on light paper or light on dark, with the digit filling a good part of it")
    ink = ink / ink.max()
    ink[ink < 0.25] = 0  # paper texture and shadows are not ink

    rows, cols = np.nonzero(ink)
    digit = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    height, width = digit.shape
    scale = 20 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    digit = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize(size, Image.LANCZOS),
                       dtype=np.float32) / 255

    canvas = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - size[1]) // 2, (28 - size[0]) // 2
    canvas[top:top + size[1], left:left + size[0]] = digit
    total = canvas.sum()
    centre_row = (canvas.sum(axis=1) * np.arange(28)).sum() / total
    centre_col = (canvas.sum(axis=0) * np.arange(28)).sum() / total
    shift = (int(round(13.5 - centre_row)), int(round(13.5 - centre_col)))
    return np.roll(canvas, shift, axis=(0, 1))


def predict_images(model, paths):
    """Print the top 3 digits for each picture; return how many pictures could not be read."""
    failed = 0
    for path in paths:
        try:
            digit = prepare_digit(path)
        except ValueError as error:
            print(f"{path}: {error}", file=sys.stderr)
            failed += 1
            continue
        logits = model.predict(digit[None, :, :, None], verbose=0)[0].astype(np.float64)
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        top3 = np.argsort(probabilities)[::-1][:3]
        print(f"{path}: " + ", ".join(f"{d} ({probabilities[d]:.1%})" for d in top3))
    return failed
