"""0001: every table of the gateway (issue 11): accounts, senders, api_tokens,
requests, jobs, attempts, outbox.

Frozen: written once, never edited (a database made by it must stay what the
next revision expects).  Times are ``timestamp with time zone`` (UTC text on
SQLite); the job statuses are the 送信状況 words of ``faxengine.gateway.jobs``
as they were at this revision.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('retry_interval_s', sa.Integer(), nullable=False),
    sa.Column('result_mail', sa.Boolean(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('from_config', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('user', 'operator')", name='ck_accounts_role'),
    sa.CheckConstraint('retries BETWEEN 0 AND 3', name='ck_accounts_retries'),
    sa.CheckConstraint('retry_interval_s >= 0', name='ck_accounts_retry_interval'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=250), nullable=False),
    sa.Column('detail_no', sa.String(length=13), nullable=True),
    sa.Column('request_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('to_address', sa.Text(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    op.create_index(op.f('ix_outbox_detail_no'), 'outbox', ['detail_no'])
    op.create_index('ix_outbox_due', 'outbox', ['delivered_at', 'next_try_at'])
    op.create_index(op.f('ix_outbox_request_seq'), 'outbox', ['request_seq'])

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_api_tokens_account_id'), 'api_tokens', ['account_id'])

    op.create_table('requests',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mail_from', sa.Text(), nullable=False),
    sa.Column('rcpt_to', sa.JSON(), nullable=False),
    sa.Column('spool_path', sa.Text(), nullable=False),
    sa.Column('sender', sa.Text(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('accepted', 'expanded')", name='ck_requests_state'),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('seq'),
    sqlite_autoincrement=True
    )
    op.create_index(op.f('ix_requests_account_id'), 'requests', ['account_id'])
    op.create_index('ix_requests_state', 'requests', ['state'])

    op.create_table('senders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('address')
    )
    op.create_index(op.f('ix_senders_account_id'), 'senders', ['account_id'])

    op.create_table('jobs',
    sa.Column('detail_no', sa.String(length=13), nullable=False),
    sa.Column('request_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('result_code', sa.String(length=40), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('image_path', sa.Text(), nullable=True),
    sa.Column('image_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('送信待ち', '送信中', '送信完了', '送信エラー', '超過枚数エラー', 'FAX番号エラー', '添付ファイルエラー', '送信データなしエラー', '宛先指定エラー', '宛先数超過エラー', 'メール形式エラー', '変換エラー')", name='ck_jobs_status'),
    sa.ForeignKeyConstraint(['request_seq'], ['requests.seq'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('detail_no')
    )
    op.create_index('ix_jobs_due', 'jobs', ['status', 'due_at'])
    op.create_index(op.f('ix_jobs_request_seq'), 'jobs', ['request_seq'])
    op.create_index('ix_jobs_sent_at', 'jobs', ['sent_at'])

    op.create_table('attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('detail_no', sa.String(length=13), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result_code', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('pages_sent', sa.Integer(), nullable=False),
    sa.Column('trace', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['detail_no'], ['jobs.detail_no'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_attempts_detail_no'), 'attempts', ['detail_no'])



def downgrade() -> None:
    op.drop_index(op.f('ix_attempts_detail_no'), table_name='attempts')

    op.drop_table('attempts')
    op.drop_index('ix_jobs_sent_at', table_name='jobs')
    op.drop_index(op.f('ix_jobs_request_seq'), table_name='jobs')
    op.drop_index('ix_jobs_due', table_name='jobs')

    op.drop_table('jobs')
    op.drop_index(op.f('ix_senders_account_id'), table_name='senders')

    op.drop_table('senders')
    op.drop_index('ix_requests_state', table_name='requests')
    op.drop_index(op.f('ix_requests_account_id'), table_name='requests')

    op.drop_table('requests')
    op.drop_index(op.f('ix_api_tokens_account_id'), table_name='api_tokens')

    op.drop_table('api_tokens')
    op.drop_index(op.f('ix_outbox_request_seq'), table_name='outbox')
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_index(op.f('ix_outbox_detail_no'), table_name='outbox')

    op.drop_table('outbox')
    op.drop_table('accounts')
