"""Named, append-only schema migrations, recorded in the `_migrations` table.

Never edit or reorder a migration that has shipped: add a new one at the end.
"""

import time
from typing import NamedTuple

import aiosqlite


class Migration(NamedTuple):
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_users_auth_groups",
        """
        CREATE TABLE user (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            username TEXT,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'user', 'pending')),
            profile_image_url TEXT NOT NULL,
            bio TEXT,
            gender TEXT,
            date_of_birth TEXT,
            timezone TEXT,
            info TEXT,
            settings TEXT,
            oauth TEXT,
            os_uid INTEGER UNIQUE,
            last_active_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX user_created_at ON user (created_at);
        CREATE TABLE auth (
            id TEXT PRIMARY KEY REFERENCES user (id) ON DELETE CASCADE,
            password TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE api_key (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL UNIQUE REFERENCES user (id) ON DELETE CASCADE,
            key TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE revoked_token (
            jti TEXT PRIMARY KEY,
            expires_at INTEGER
        );
        CREATE TABLE "group" (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            permissions TEXT,
            data TEXT,
            meta TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE group_member (
            group_id TEXT NOT NULL REFERENCES "group" (id) ON DELETE CASCADE,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (group_id, user_id)
        );
        CREATE INDEX group_member_user ON group_member (user_id);
        CREATE TABLE config (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );
        """,
    ),
    Migration(
        "0002_chats",
        """
        CREATE TABLE folder (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            parent_id TEXT,
            name TEXT NOT NULL,
            items TEXT,
            meta TEXT,
            data TEXT,
            is_expanded INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX folder_user_parent ON folder (user_id, parent_id);
        -- pk: a stable integer rowid for the FTS index (a TEXT primary key's rowid may change
        -- on VACUUM). `document` is the chat document without its messages (those are rows).
        CREATE TABLE chat (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            document TEXT NOT NULL,
            current_id TEXT,
            share_id TEXT UNIQUE,
            archived INTEGER NOT NULL DEFAULT 0,
            pinned INTEGER NOT NULL DEFAULT 0,
            folder_id TEXT REFERENCES folder (id) ON DELETE SET NULL,
            meta TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX chat_user_updated ON chat (user_id, archived, updated_at DESC);
        CREATE INDEX chat_folder ON chat (folder_id);
        -- One row per message of the tree, so a streamed answer rewrites one small row.
        CREATE TABLE chat_message (
            pk INTEGER PRIMARY KEY,
            chat_id TEXT NOT NULL REFERENCES chat (id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            parent_id TEXT,
            children TEXT NOT NULL DEFAULT '[]',
            role TEXT,
            content TEXT,
            data TEXT NOT NULL DEFAULT '{}',
            position INTEGER NOT NULL,
            UNIQUE (chat_id, id)
        );
        CREATE VIRTUAL TABLE chat_message_fts USING fts5 (
            content, content='chat_message', content_rowid='pk',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE VIRTUAL TABLE chat_title_fts USING fts5 (
            title, content='chat', content_rowid='pk',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER chat_message_fts_insert AFTER INSERT ON chat_message BEGIN
            INSERT INTO chat_message_fts (rowid, content) VALUES (new.pk, new.content);
        END;
        CREATE TRIGGER chat_message_fts_delete AFTER DELETE ON chat_message BEGIN
            INSERT INTO chat_message_fts (chat_message_fts, rowid, content)
                VALUES ('delete', old.pk, old.content);
        END;
        CREATE TRIGGER chat_message_fts_update AFTER UPDATE OF content ON chat_message
            WHEN old.content IS NOT new.content BEGIN
            INSERT INTO chat_message_fts (chat_message_fts, rowid, content)
                VALUES ('delete', old.pk, old.content);
            INSERT INTO chat_message_fts (rowid, content) VALUES (new.pk, new.content);
        END;
        CREATE TRIGGER chat_title_fts_insert AFTER INSERT ON chat BEGIN
            INSERT INTO chat_title_fts (rowid, title) VALUES (new.pk, new.title);
        END;
        CREATE TRIGGER chat_title_fts_delete AFTER DELETE ON chat BEGIN
            INSERT INTO chat_title_fts (chat_title_fts, rowid, title)
                VALUES ('delete', old.pk, old.title);
        END;
        CREATE TRIGGER chat_title_fts_update AFTER UPDATE OF title ON chat
            WHEN old.title IS NOT new.title BEGIN
            INSERT INTO chat_title_fts (chat_title_fts, rowid, title)
                VALUES ('delete', old.pk, old.title);
            INSERT INTO chat_title_fts (rowid, title) VALUES (new.pk, new.title);
        END;
        CREATE TABLE tag (
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            meta TEXT,
            PRIMARY KEY (id, user_id)
        );
        -- A shared chat is a snapshot taken when shared (Open WebUI copies it the same way).
        CREATE TABLE chat_share (
            id TEXT PRIMARY KEY,
            chat_id TEXT NOT NULL UNIQUE REFERENCES chat (id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            title TEXT NOT NULL,
            document TEXT NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        """,
    ),
    Migration(
        "0003_models_connections",
        """
        -- Workspace models (presets and overrides of base models), Open WebUI's "model" table.
        -- access_grants holds Open WebUI 0.12's grant list; 0.6's access_control is derived.
        CREATE TABLE model (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            base_model_id TEXT,
            name TEXT NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}',
            params TEXT NOT NULL DEFAULT '{}',
            access_grants TEXT NOT NULL DEFAULT '[]',
            is_active INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX model_user ON model (user_id);
        -- Provider connections as an admin saved them; no row means "from the environment".
        CREATE TABLE connection_config (
            provider TEXT PRIMARY KEY CHECK (provider IN ('ollama', 'openai')),
            enabled INTEGER NOT NULL,
            urls TEXT NOT NULL,
            api_keys TEXT NOT NULL,
            configs TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );
        """,
    ),
    Migration(
        "0004_files_knowledge",
        """
        -- Uploaded files, and texts indexed through /retrieval/process/text (kind 'text', no
        -- bytes on disk; text_collection names the collection they were indexed into).
        -- Extracted text lives in its own column so lists need not read it.
        CREATE TABLE file (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            kind TEXT NOT NULL DEFAULT 'upload' CHECK (kind IN ('upload', 'text')),
            hash TEXT NOT NULL,
            filename TEXT NOT NULL,
            path TEXT,
            meta TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
            error TEXT,
            content TEXT,
            chunk_count INTEGER NOT NULL DEFAULT 0,
            -- embedding model + chunking settings the file's index rows were built with
            index_key TEXT,
            text_collection TEXT,
            -- 0 when uploaded with ?process=false: not processed until someone asks
            auto_process INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX file_user ON file (user_id, kind, created_at);
        CREATE INDEX file_hash ON file (hash, status);
        CREATE INDEX file_status ON file (status);
        CREATE INDEX file_text_collection ON file (user_id, text_collection);
        CREATE TABLE knowledge (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            meta TEXT,
            data TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX knowledge_user ON knowledge (user_id, updated_at);
        -- Open WebUI 0.12's access grants; principal ('user', '*') is public read.
        CREATE TABLE knowledge_grant (
            knowledge_id TEXT NOT NULL REFERENCES knowledge (id) ON DELETE CASCADE,
            principal_type TEXT NOT NULL CHECK (principal_type IN ('user', 'group')),
            principal_id TEXT NOT NULL,
            permission TEXT NOT NULL CHECK (permission IN ('read', 'write')),
            PRIMARY KEY (knowledge_id, principal_type, principal_id, permission)
        );
        CREATE INDEX knowledge_grant_principal ON knowledge_grant (principal_type, principal_id);
        -- A knowledge base is a set of files: searching it searches its files' index rows.
        CREATE TABLE knowledge_file (
            knowledge_id TEXT NOT NULL REFERENCES knowledge (id) ON DELETE CASCADE,
            file_id TEXT NOT NULL REFERENCES file (id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (knowledge_id, file_id)
        );
        CREATE INDEX knowledge_file_file ON knowledge_file (file_id);
        """,
    ),
    Migration(
        "0005_usage_daily",
        """
        -- Generations per user, UTC day and model (`webui usage`): requests, and tokens as the
        -- provider counted them (estimated from the text when it gave no count).
        CREATE TABLE usage_daily (
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            day TEXT NOT NULL,
            model TEXT NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, day, model)
        );
        CREATE INDEX usage_daily_day ON usage_daily (day);
        """,
    ),
    Migration(
        "0006_access_grants_prompts",
        """
        -- Open WebUI 0.12's access grants of workspace records (prompts, notes), one table for
        -- every kind: `principal_id` "*" with principal_type "user" is everyone.
        CREATE TABLE access_grant (
            resource_type TEXT NOT NULL,
            resource_id TEXT NOT NULL,
            principal_type TEXT NOT NULL CHECK (principal_type IN ('user', 'group')),
            principal_id TEXT NOT NULL,
            permission TEXT NOT NULL CHECK (permission IN ('read', 'write')),
            created_at INTEGER NOT NULL,
            PRIMARY KEY (resource_type, resource_id, principal_type, principal_id, permission)
        );
        CREATE INDEX access_grant_principal
            ON access_grant (resource_type, principal_type, principal_id);
        -- The prompt library: `/command` templates; each content change is a history entry.
        CREATE TABLE prompt (
            id TEXT PRIMARY KEY,
            command TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            content TEXT NOT NULL,
            data TEXT,
            meta TEXT,
            tags TEXT,
            is_active INTEGER NOT NULL DEFAULT 1,
            version_id TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX prompt_user ON prompt (user_id);
        CREATE INDEX prompt_updated ON prompt (updated_at);
        CREATE TABLE prompt_history (
            id TEXT PRIMARY KEY,
            prompt_id TEXT NOT NULL REFERENCES prompt (id) ON DELETE CASCADE,
            parent_id TEXT,
            snapshot TEXT NOT NULL,
            user_id TEXT NOT NULL,
            commit_message TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX prompt_history_prompt ON prompt_history (prompt_id, created_at);
        -- A prompt's grants go with it, also when its owner's deletion removes it.
        CREATE TRIGGER prompt_grants_gone AFTER DELETE ON prompt BEGIN
            DELETE FROM access_grant WHERE resource_type = 'prompt' AND resource_id = OLD.id;
        END;
        """,
    ),
    Migration(
        "0007_notes",
        """
        -- Open WebUI 0.12's notes: Markdown (and the web editor's html/json) in `data`; their
        -- grants live in access_grant (resource_type 'note'). Times are nanoseconds, as 0.12.
        CREATE TABLE note (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            data TEXT,
            meta TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX note_user ON note (user_id, updated_at);
        CREATE INDEX note_updated ON note (updated_at);
        -- Each user's pinned notes (a pin is personal: pinning a shared note pins it for you).
        CREATE TABLE pinned_note (
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            note_id TEXT NOT NULL REFERENCES note (id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (user_id, note_id)
        );
        CREATE INDEX pinned_note_note ON pinned_note (note_id);
        -- A note's grants go with it, also when its owner's deletion removes it.
        CREATE TRIGGER note_grants_gone AFTER DELETE ON note BEGIN
            DELETE FROM access_grant WHERE resource_type = 'note' AND resource_id = OLD.id;
        END;
        """,
    ),
    Migration(
        "0008_memories",
        """
        -- Open WebUI 0.12's memories: what a user asked to be remembered (type 'user': facts
        -- about them; 'context': anything else), optionally filed under a path. Their vectors
        -- live in the user's own LanceDB table (rag.memory_index).
        CREATE TABLE memory (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            type TEXT NOT NULL DEFAULT 'context' CHECK (type IN ('user', 'context')),
            path TEXT,
            content TEXT NOT NULL,
            meta TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX memory_user ON memory (user_id, updated_at);
        """,
    ),
    Migration(
        "0009_user_status",
        """
        -- Open WebUI 0.12's user status (POST /api/v1/users/user/status/update).
        ALTER TABLE user ADD COLUMN status_emoji TEXT;
        ALTER TABLE user ADD COLUMN status_message TEXT;
        ALTER TABLE user ADD COLUMN status_expires_at INTEGER;
        """,
    ),
)


async def applied_migrations(conn: aiosqlite.Connection) -> list[str]:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations "
        "(name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
    )
    async with conn.execute("SELECT name FROM _migrations ORDER BY rowid") as cur:
        return [str(row[0]) for row in await cur.fetchall()]


async def apply_migrations(
    conn: aiosqlite.Connection, migrations: tuple[Migration, ...] = MIGRATIONS
) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction; return their names."""
    done = set(await applied_migrations(conn))
    applied: list[str] = []
    for migration in migrations:
        if migration.name in done:
            continue
        # One script so that the schema change and its record commit (or fail) together.
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{migration.sql}\n"
            f"INSERT INTO _migrations (name, applied_at) VALUES "
            f"('{migration.name}', {int(time.time())});\n"
            "COMMIT;"
        )
        try:
            await conn.executescript(script)
        except Exception:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        applied.append(migration.name)
    return applied
