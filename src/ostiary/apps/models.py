"""The app models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.db import Base, new_id


class App(Base):
    """An app, owned by one account, shared with collaborators."""

    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(30), unique=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    region: Mapped[str] = mapped_column(String(8))
    stack: Mapped[str] = mapped_column(String(32))
    maintenance: Mapped[bool] = mapped_column(default=False)
    # The authorization that created the app: a create-apps token may act only on these.
    created_by_authorization_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    released_at: Mapped[datetime | None]

    owner: Mapped[Account] = relationship(lazy="joined")


class Collaborator(Base):
    """An account given access to someone else's app."""

    __tablename__ = "collaborators"
    __table_args__ = (UniqueConstraint("app_id", "account_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    app: Mapped[App] = relationship(lazy="joined")
    account: Mapped[Account] = relationship(lazy="joined")


class ConfigVar(Base):
    """One environment variable of an app."""

    __tablename__ = "config_vars"
    __table_args__ = (UniqueConstraint("app_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)


class Release(Base):
    """A numbered change to an app (creation, config vars, add-ons)."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("app_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    description: Mapped[str] = mapped_column(String(500))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    addon_plan_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The app's config vars as this release made them (GET .../releases/{v}/config-vars): the
    # user's data, kept as the current ones are (ConfigVar.value).
    config_vars: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    app: Mapped[App] = relationship(lazy="joined")
    user: Mapped[Account | None] = relationship(lazy="joined")


class AddOn(Base):
    """A provisioned add-on: a record of a plan from the built-in catalogue.

    Each add-on has exactly one attachment, to its own app, kept on its row: ``attachment_name``
    (``DATABASE``, ``REDIS``, ...) is unique within the app and prefixes its config vars.
    """

    __tablename__ = "addons"
    __table_args__ = (UniqueConstraint("app_id", "attachment_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[str] = mapped_column(String(36))
    provider_id: Mapped[str] = mapped_column(String(36), default=new_id)
    attachment_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    attachment_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    app: Mapped[App] = relationship(lazy="joined")
