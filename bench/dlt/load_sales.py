"""Load a mongodump archive's documents into PostgreSQL with dlt, for the backfill bench.

Usage: python load_sales.py <archive> <defaults|tuned> <work dir>
The destination comes from DESTINATION__POSTGRES__CREDENTIALS (set by the bench, so the
password never shows in a process list). Prints one JSON line: docs, seconds, what dlt
made of Decimal128 and of array order.

Values are converted the way dlt's MongoDB verified source converts them (ObjectId and
Decimal128 to str, datetimes to UTC), so dlt sees what its own MongoDB source would hand it;
the read itself is from the same uncompressed archive Ferry reads, not from a server.
"""

import datetime
import json
import os
import struct
import sys
import time

import bson
from bson import Decimal128, ObjectId

ARCHIVE_MAGIC = 0x8199E26D
TERMINATOR = -1


def read_archive(path):
    """Yield (collection, raw BSON bytes) from a mongodump --archive file (uncompressed)."""
    with open(path, "rb", buffering=1 << 20) as f:
        (magic,) = struct.unpack("<I", f.read(4))
        if magic != ARCHIVE_MAGIC:
            raise SystemExit(f"{path}: not a mongodump archive")
        read_doc(f)  # the prelude header
        while read_doc(f) is not None:  # collection metadata until the terminator
            pass
        while True:
            header = read_doc(f)
            if header is None:
                continue
            if header is EOFError:
                return
            namespace = bson.decode(header)
            if namespace.get("EOF"):
                continue
            while (doc := read_doc(f)) is not None:
                yield namespace["collection"], doc


def read_doc(f):
    size = f.read(4)
    if len(size) < 4:
        return EOFError
    (length,) = struct.unpack("<i", size)
    if length == TERMINATOR:
        return None
    return size + f.read(length - 4)


def convert(value):
    if isinstance(value, dict):
        return {k: convert(v) for k, v in value.items()}
    if isinstance(value, list):
        return [convert(v) for v in value]
    if isinstance(value, (ObjectId, Decimal128)):
        return str(value)
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value


def documents(archive):
    for _collection, raw in read_archive(archive):
        yield convert(bson.decode(raw))


def main():
    archive, mode, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    if mode == "tuned":
        # The settings dlt's performance guide names: csv into postgres (COPY), two normalize
        # processes, 25k-item files so they have files to share, no compression.
        os.environ["NORMALIZE__WORKERS"] = "2"
        os.environ["DATA_WRITER__FILE_MAX_ITEMS"] = "25000"
        os.environ["DATA_WRITER__BUFFER_MAX_ITEMS"] = "25000"
        os.environ["DATA_WRITER__DISABLE_COMPRESSION"] = "true"
    import dlt  # after the environment: dlt reads its configuration on import

    pipeline = dlt.pipeline(
        pipeline_name=f"ferry_bench_{mode}",
        destination="postgres",
        dataset_name="dlt_sales",
        pipelines_dir=os.path.join(work, "pipelines"),
    )
    resource = dlt.resource(documents(archive), name="sales", write_disposition="replace")
    started = time.perf_counter()
    pipeline.run(resource, **({"loader_file_format": "csv"} if mode == "tuned" else {}))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, **inspect(pipeline, archive)}))


def inspect(pipeline, archive):
    """What the tables dlt created hold: row counts, the price's type, the items' order."""
    with pipeline.sql_client() as client:
        schema = client.fully_qualified_dataset_name()
        docs = client.execute_sql(f"select count(*) from {schema}.sales")[0][0]
        columns = client.execute_sql(
            "select table_name, column_name, data_type, numeric_precision, numeric_scale"
            " from information_schema.columns where table_schema = %s order by table_name, ordinal_position",
            pipeline.dataset_name,
        )
        price = [c for c in columns if c[0] == "sales__items" and c[1] == "price"]
        price_type = price[0][2] if price else "missing"
        if price and price[0][2] == "numeric":
            price_type = f"numeric({price[0][3]},{price[0][4]})"
        # Array order: dlt writes list elements to a child table with _dlt_list_idx; compare
        # with the source order for every document.
        rows = client.execute_sql(
            f"select s._id, i._dlt_list_idx, i.name, i.price from {schema}.sales s"
            f" join {schema}.sales__items i on i._dlt_parent_id = s._dlt_id"
        )
    loaded = {}
    for _id, idx, name, price_value in rows:
        loaded.setdefault(_id, {})[idx] = (name, str(price_value))
    order_kept = price_exact = True
    for doc in documents(archive):
        items = loaded.get(doc["_id"], {})
        for idx, item in enumerate(doc.get("items", [])):
            got = items.get(idx)
            if got is None or got[0] != item.get("name"):
                order_kept = False
            elif got[1] != item.get("price"):
                price_exact = False
    return {
        "docs": docs,
        "tables": sorted({c[0] for c in columns if not c[0].startswith("_dlt")}),
        "priceType": price_type,
        "priceExact": price_exact,
        "arrayOrderKept": order_kept,
    }


if __name__ == "__main__":
    main()
