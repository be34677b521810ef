"""Database URLs: ``sqlite:///path/to/file.db`` or ``postgresql://user:pass@host:port/db``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


class DatabaseUrlError(ValueError):
    pass


@dataclass(frozen=True)
class DatabaseConfig:
    kind: str  # sqlite | postgres
    path: str | None = None
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgres"

    def conninfo(self) -> str:
        """libpq connection string (PostgreSQL only)."""
        parts = [f"host={self.host}", f"port={self.port}", f"dbname={self.dbname}"]
        if self.user:
            parts.append(f"user={self.user}")
        if self.password:
            parts.append(f"password={self.password}")
        return " ".join(parts)


def parse_database_url(url: str) -> DatabaseConfig:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path:
            raise DatabaseUrlError("sqlite URL needs a file path: sqlite:///path/to/file.db")
        return DatabaseConfig(kind="sqlite", path=path)
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise DatabaseUrlError("postgresql URL needs a host and a database name")
        try:
            port = parts.port or 5432
        except ValueError as exc:
            raise DatabaseUrlError(f"bad port in database URL: {exc}") from None
        return DatabaseConfig(
            kind="postgres", host=parts.hostname, port=port,
            user=unquote(parts.username or ""), password=unquote(parts.password or ""),
            dbname=dbname)
    raise DatabaseUrlError("must start with sqlite:/// or postgresql://")
