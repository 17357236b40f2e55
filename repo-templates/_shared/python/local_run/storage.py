"""S3 as the jobs see it: prefixes copied into container folders and back, shards per host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import LocalRunError


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split s3://bucket/key into (bucket, key)."""
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise LocalRunError(f"{url!r} is not an S3 URL: use s3://bucket/key")
    bucket, _, key = url[len("s3://") :].partition("/")
    return bucket, key


class Storage:
    """Copies between S3 (whatever endpoint the client points at) and local folders."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def keys(self, url: str) -> list[str]:
        """Return the keys under the prefix `url`, sorted as S3 lists them."""
        bucket, prefix = parse_s3_url(url)
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
        return found

    def exists(self, url: str) -> bool:
        """Whether anything is stored under `url`."""
        bucket, prefix = parse_s3_url(url)
        return bool(self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0))

    def download(self, url: str, dest: Path, shard: tuple[int, int] = (0, 1)) -> list[Path]:
        """Copy the objects under the prefix `url` into `dest`, as SageMaker's S3Prefix does.

        `shard` (index, count) keeps every count-th object from the index-th, as
        ShardedByS3Key gives each host its share; a host may get none when objects are few.
        """
        bucket, prefix = parse_s3_url(url)
        dest.mkdir(parents=True, exist_ok=True)
        keys = self.keys(url)
        if not keys:
            raise LocalRunError(f"nothing at {url}: upload the data there or pass another URL")
        index, count = shard
        written = []
        for key in keys[index::count]:
            rel = key[len(prefix) :].lstrip("/") or Path(key).name
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(bucket, key, str(target))
            written.append(target)
        return written

    def upload(self, src: Path, url: str) -> list[str]:
        """Copy every file under `src` to the S3 prefix `url`; return the URLs written."""
        bucket, prefix = parse_s3_url(url)
        written = []
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            key = f"{prefix.rstrip('/')}/{path.relative_to(src).as_posix()}".lstrip("/")
            self.s3.upload_file(str(path), bucket, key)
            written.append(f"s3://{bucket}/{key}")
        return written

    def upload_file(self, path: Path, url: str) -> None:
        """Copy one file to the object `url`."""
        bucket, key = parse_s3_url(url)
        self.s3.upload_file(str(path), bucket, key)

    def download_file(self, url: str, path: Path) -> None:
        """Copy the object `url` to `path`, naming it when it is missing."""
        from botocore.exceptions import ClientError

        bucket, key = parse_s3_url(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.s3.download_file(bucket, key, str(path))
        except ClientError as exc:
            raise LocalRunError(f"cannot read {url}: {exc}") from exc

    def read(self, url: str) -> bytes:
        """Return the body of the object `url`."""
        from botocore.exceptions import ClientError

        bucket, key = parse_s3_url(url)
        try:
            body: bytes = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise LocalRunError(f"cannot read {url}: {exc}") from exc
        return body

    def write(self, url: str, body: bytes) -> None:
        """Store `body` as the object `url`."""
        bucket, key = parse_s3_url(url)
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)
