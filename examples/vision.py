"""Images with a vision model, in LangChain and in LlamaIndex: a small PNG made in code, sent as base64."""

import base64
import struct
import zlib

from _offline import modelslab
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage, ImageBlock, TextBlock

from langchain_modelslab import ChatModelsLab
from llama_index_modelslab import ModelsLab

MODEL = "Qwen/Qwen2.5-VL-72B-Instruct-together"  # a vision model


def red_square_png(size: int = 8) -> bytes:
    """A size x size red PNG, built with the standard library (no file, no download)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * size for _ in range(size))  # filter byte, then pixels
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    png = red_square_png()
    question = "What colour is this image?"

    message = HumanMessage(
        [
            {"type": "text", "text": question},
            {"type": "image", "base64": base64.b64encode(png).decode(), "mime_type": "image/png"},
        ]
    )
    print("LangChain:", ChatModelsLab(model=MODEL).invoke([message]).text)

    chat = ChatMessage(
        role="user", blocks=[ImageBlock(image=png, image_mimetype="image/png"), TextBlock(text=question)]
    )
    print("LlamaIndex:", ModelsLab(model=MODEL).chat([chat]).message.content)


if __name__ == "__main__":
    with modelslab():
        main()
