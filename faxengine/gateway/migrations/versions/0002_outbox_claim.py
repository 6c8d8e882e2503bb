"""0002: the outbox claim (issue 11): who is delivering a result mail, since when.

Two gateway hosts on one database both delivered the same result mail (a
duplicate through a smarthost): a row is now claimed before delivery, as a job
is, ``claimed_by`` naming the claimer (``<gateway name>:<pid>/outbox``) and
``claimed_at`` when.  Rows of a database made by 0001 come through unclaimed
(both NULL): the next outbox worker claims them as any other.

Frozen: written once, never edited.  Batch mode on SQLite (``env.py``): its
ALTER TABLE cannot drop a column on every version the gateway supports.

Revision ID: 0002_outbox_claim
Revises: 0001
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_outbox_claim'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('claimed_at')
        batch.drop_column('claimed_by')
