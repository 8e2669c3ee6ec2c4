"""Schema migrations with Alembic: upgrade, inspect and check that a database matches the code."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "alembic_version"
UPGRADE_COMMAND = "techmatch db upgrade"


class SchemaNotCurrent(RuntimeError):
    """The database is not at the code's migration head; the message says which command fixes it."""


def script_location() -> Path:
    """The `alembic/` folder: beside the package in a checkout, else in the working directory (image)."""
    for base in (Path(__file__).resolve().parents[2], Path.cwd()):
        candidate = base / "alembic"
        if (candidate / "env.py").is_file():
            return candidate
    raise SchemaNotCurrent("the alembic/ migrations folder was not found beside the app or in the working directory")


def alembic_config(*, url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revisions() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions recorded in the database's version table (none when it has no such table)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
            return tuple(sorted(row[0] for row in rows))
    except DBAPIError:
        return ()


def declared_heads() -> tuple[str, ...]:
    """The heads as the revision files declare them (`revision`, `down_revision`), read without Alembic.

    Commands that need no model start fast when the database is current: this and one query decide it,
    and Alembic is imported only when something is to be done (`test_migrations` checks it agrees).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (script_location() / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign | ast.Assign) and node.value is not None:
                target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
                name = getattr(target, "id", None)
                value = ast.literal_eval(node.value) if name in ("revision", "down_revision") else None
                if name == "revision" and isinstance(value, str):
                    revisions.add(value)
                elif name == "down_revision" and value is not None:
                    parents.update([value] if isinstance(value, str) else value)
    return tuple(sorted(revisions - parents))


def is_current(engine: Engine) -> bool:
    """Whether the database's recorded revisions are exactly the code's heads (one query, no Alembic)."""
    return set(current_revisions(engine)) == set(declared_heads())


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: tuple[str, ...]
    heads: tuple[str, ...]
    # Tables of the app but no migration history: made by create_all before migrations existed.
    unversioned_tables: bool

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.heads)


def schema_state(engine: Engine) -> SchemaState:
    from app.models import Base  # every model, for its tables

    current = current_revisions(engine)
    tables = set(inspect(engine).get_table_names())
    return SchemaState(
        current=current,
        heads=declared_heads(),
        unversioned_tables=not current and bool(tables & set(Base.metadata.tables)),
    )


def upgrade(engine: Engine, *, revision: str = "head") -> None:
    """Runs the migrations up to `revision` on `engine`, in one transaction where the database allows."""
    from alembic import command

    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, *, revision: str) -> None:
    from alembic import command

    _run(engine, lambda config: command.downgrade(config, revision))


def stamp(engine: Engine, *, revision: str) -> None:
    """Records `revision` as applied without running it (adopting a database made before migrations)."""
    from alembic import command

    _run(engine, lambda config: command.stamp(config, revision))


def _run(engine: Engine, action: Any) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config)


def _describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def check_schema(engine: Engine) -> None:
    """Raises SchemaNotCurrent, naming the command to run, unless the database is at the head."""
    if is_current(engine):
        return
    state = schema_state(engine)
    if state.up_to_date:
        return
    where = _describe(engine)
    if state.unversioned_tables:
        raise SchemaNotCurrent(
            f"the database {where} has tables but no migration history (it was created before migrations): "
            f"back it up and start from an empty one, or, if it matches the first revision, "
            f"run `techmatch db stamp {_first_revision()}` and then `{UPGRADE_COMMAND}`"
        )
    if not state.current:
        raise SchemaNotCurrent(f"the database {where} is not migrated: run `{UPGRADE_COMMAND}`")
    unknown = set(state.current) - _known_revisions()
    if unknown:
        raise SchemaNotCurrent(
            f"the database {where} is at revision {', '.join(sorted(unknown))}, which this code does not know "
            f"(newer code migrated it?): run a matching version of techmatch"
        )
    raise SchemaNotCurrent(
        f"the database {where} is at revision {', '.join(state.current)}, the code expects "
        f"{', '.join(state.heads)}: run `{UPGRADE_COMMAND}`"
    )


def ensure_schema(engine: Engine, *, upgrade_embedded: bool = True) -> None:
    """Upgrades an embedded SQLite database itself (convenience); any other database is only checked.

    A server database is migrated as a deliberate step (`techmatch db upgrade`), so a deployment
    never changes a shared schema by starting a process.
    """
    if is_current(engine):
        return
    if upgrade_embedded and engine.dialect.name == "sqlite":
        state = schema_state(engine)
        if not state.up_to_date and not state.unversioned_tables:
            upgrade(engine)
    check_schema(engine)


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _first_revision() -> str:
    from alembic.script import ScriptDirectory

    bases = ScriptDirectory.from_config(alembic_config()).get_bases()
    return bases[0] if bases else "base"


def schema_differences(engine: Engine) -> list[Any]:
    """What autogenerate would write for this database: empty when the migrations match the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.models import Base

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        return list(compare_metadata(context, Base.metadata))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # The version table is Alembic's own, not a model; the pgvector tables exist on PostgreSQL only and
    # are kept by app/indexing/pgvector.py (migration 0008), not by the models.
    from app.indexing.pgvector import VECTOR_TABLES

    return not (type_ == "table" and (name == VERSION_TABLE or name in VECTOR_TABLES))


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Writes the app's UTC column type as the plain DateTime it stores, so revisions import nothing from app."""
    from app.models import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
