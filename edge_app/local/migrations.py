"""Numbered, named migrations of the device replica. Never edit a shipped one."""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "hub_state",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE items (sku TEXT PRIMARY KEY, name TEXT NOT NULL, unit_weight_g INTEGER);
        CREATE TABLE barcodes (code TEXT PRIMARY KEY, sku TEXT NOT NULL);
        CREATE INDEX ix_barcodes_sku ON barcodes (sku);
        CREATE TABLE bins (code TEXT PRIMARY KEY, seq INTEGER NOT NULL);
        CREATE TABLE orders (
            id TEXT PRIMARY KEY, number TEXT NOT NULL, channel TEXT NOT NULL,
            fulfilment TEXT NOT NULL, promised_by TEXT NOT NULL, customer_name TEXT NOT NULL,
            location TEXT, status TEXT NOT NULL, created_at TEXT NOT NULL
        );
        CREATE TABLE order_lines (
            order_id TEXT NOT NULL, line_no INTEGER NOT NULL, sku TEXT NOT NULL,
            qty INTEGER NOT NULL, pick_bin TEXT, qty_picked INTEGER NOT NULL,
            qty_short INTEGER NOT NULL, short_reason TEXT,
            PRIMARY KEY (order_id, line_no)
        );
        CREATE TABLE stock (
            bin TEXT NOT NULL, sku TEXT NOT NULL, on_hand INTEGER NOT NULL,
            PRIMARY KEY (bin, sku)
        );
        CREATE INDEX ix_stock_sku ON stock (sku);
        """,
    ),
    (
        2,
        "outbox_and_pending_effects",
        """
        CREATE TABLE outbox (
            device_seq INTEGER PRIMARY KEY, op_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
            payload TEXT NOT NULL, actor TEXT NOT NULL, hlc TEXT NOT NULL,
            schema_version INTEGER NOT NULL, created_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending', reason_code TEXT, message TEXT,
            result TEXT, change_seq INTEGER, acked_at TEXT
        );
        CREATE INDEX ix_outbox_state ON outbox (state, device_seq);
        -- Effects of ops the pulled hub state does not reflect yet (the rebase overlay).
        CREATE TABLE line_effects (
            device_seq INTEGER NOT NULL, order_id TEXT NOT NULL, line_no INTEGER NOT NULL,
            picked INTEGER NOT NULL DEFAULT 0, short INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX ix_line_effects_line ON line_effects (order_id, line_no);
        CREATE TABLE stock_effects (
            device_seq INTEGER NOT NULL, bin TEXT NOT NULL, sku TEXT NOT NULL, delta INTEGER NOT NULL
        );
        CREATE INDEX ix_stock_effects_key ON stock_effects (bin, sku);
        CREATE VIEW order_lines_now AS
            SELECT l.order_id, l.line_no, l.sku, l.qty, l.pick_bin, l.short_reason,
                   l.qty_picked + COALESCE(SUM(e.picked), 0) AS qty_picked,
                   l.qty_short + COALESCE(SUM(e.short), 0) AS qty_short
            FROM order_lines l
            LEFT JOIN line_effects e ON e.order_id = l.order_id AND e.line_no = l.line_no
            GROUP BY l.order_id, l.line_no;
        CREATE VIEW stock_now AS
            SELECT s.bin, s.sku, s.on_hand + COALESCE(SUM(e.delta), 0) AS on_hand
            FROM stock s LEFT JOIN stock_effects e ON e.bin = s.bin AND e.sku = s.sku
            GROUP BY s.bin, s.sku;
        """,
    ),
    (
        3,
        "tasks_and_order_followups",
        """
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, for_role TEXT NOT NULL, sentence TEXT NOT NULL,
            details TEXT NOT NULL, order_id TEXT, status TEXT NOT NULL
        );
        ALTER TABLE orders ADD COLUMN staging TEXT;
        ALTER TABLE order_lines ADD COLUMN qty_handed_over INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE order_lines ADD COLUMN qty_returned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE order_lines ADD COLUMN qty_refunded INTEGER NOT NULL DEFAULT 0
        """,
    ),
    (
        4,
        "escrow",
        """
        CREATE TABLE allotments (
            sku TEXT PRIMARY KEY, outstanding INTEGER NOT NULL, target INTEGER NOT NULL, expires_at TEXT NOT NULL
        );
        -- Escrow units used by ops the hub has not reflected yet (reservations, releases).
        CREATE TABLE escrow_effects (device_seq INTEGER NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL);
        CREATE INDEX ix_escrow_effects_sku ON escrow_effects (sku);
        -- Orders that exist locally only because of a pending op (taken at this terminal).
        CREATE TABLE order_effects (device_seq INTEGER NOT NULL, order_id TEXT NOT NULL, guaranteed INTEGER NOT NULL);
        CREATE INDEX ix_order_effects_order ON order_effects (order_id)
        """,
    ),
    (
        5,
        "operators_packing_wip",
        """
        CREATE TABLE operators (
            operator_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
            pin_hash TEXT NOT NULL, salt TEXT NOT NULL
        );
        ALTER TABLE orders ADD COLUMN tote TEXT;
        ALTER TABLE order_lines ADD COLUMN qty_packed INTEGER NOT NULL DEFAULT 0;
        -- Work in progress of each operator (a pick batch, a carton being packed),
        -- saved at every step so a restarted app resumes where the person was.
        CREATE TABLE wip (
            operator_id TEXT NOT NULL, flow TEXT NOT NULL, state TEXT NOT NULL, saved_at TEXT NOT NULL,
            PRIMARY KEY (operator_id, flow)
        )
        """,
    ),
    (
        6,
        "pickups_returns_counts_tasks",
        """
        ALTER TABLE orders ADD COLUMN pickup_code TEXT;
        ALTER TABLE orders ADD COLUMN pickup_by TEXT;
        ALTER TABLE order_lines ADD COLUMN qty_refused INTEGER NOT NULL DEFAULT 0;
        -- Effects of pickup, return, refund, extension and task ops. Rows are never
        -- settled by deleting them: the view below keeps only those of ops still
        -- pending, or applied at a feed position the pulled state has not reached.
        CREATE TABLE floor_effects (
            device_seq INTEGER NOT NULL, order_id TEXT, line_no INTEGER,
            handed_over INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0, refunded INTEGER NOT NULL DEFAULT 0,
            task_id INTEGER, pickup_by TEXT
        );
        CREATE INDEX ix_floor_effects_seq ON floor_effects (device_seq);
        CREATE VIEW live_floor_effects AS
            SELECT e.* FROM floor_effects e JOIN outbox o ON o.device_seq = e.device_seq
            WHERE o.state = 'pending' OR (o.state = 'applied' AND COALESCE(o.change_seq, 0) >
                  CAST(COALESCE((SELECT value FROM meta WHERE key = 'cursor'), '0') AS INTEGER));
        CREATE VIEW floor_lines_now AS
            SELECT l.order_id, l.line_no, l.sku, l.qty, l.pick_bin, n.qty_picked, n.qty_short,
                   l.qty_handed_over + COALESCE(e.handed_over, 0) AS qty_handed_over,
                   l.qty_refused + COALESCE(e.refused, 0) AS qty_refused,
                   l.qty_returned + COALESCE(e.returned, 0) AS qty_returned,
                   l.qty_refunded + COALESCE(e.refunded, 0) AS qty_refunded
            FROM order_lines l JOIN order_lines_now n ON n.order_id = l.order_id AND n.line_no = l.line_no
            LEFT JOIN (SELECT order_id, line_no, SUM(handed_over) AS handed_over, SUM(refused) AS refused,
                              SUM(returned) AS returned, SUM(refunded) AS refunded
                       FROM live_floor_effects WHERE line_no IS NOT NULL GROUP BY order_id, line_no) e
                   ON e.order_id = l.order_id AND e.line_no = l.line_no;
        CREATE VIEW tasks_now AS
            SELECT t.* FROM tasks t WHERE t.status = 'open'
            AND t.id NOT IN (SELECT task_id FROM live_floor_effects WHERE task_id IS NOT NULL)
        """,
    ),
    (
        7,
        "pick_claims_and_follow_ups",
        """
        ALTER TABLE orders ADD COLUMN claimed_by TEXT;
        ALTER TABLE orders ADD COLUMN claimed_actor TEXT;
        ALTER TABLE orders ADD COLUMN claimed_hlc TEXT;
        -- An operator read a follow-up (a short's task, a count difference) and put it away.
        ALTER TABLE outbox ADD COLUMN dismissed_at TEXT
        """,
    ),
    (
        8,
        "operator_checks_proofs_sign_in_failures",
        """
        -- A device keeps an 8-bit PIN check per operator, never the PIN's hash (sync.proofs).
        ALTER TABLE operators ADD COLUMN kdf TEXT;
        ALTER TABLE operators ADD COLUMN pin_check TEXT;
        UPDATE operators SET pin_hash = '';
        -- The operator's proof each op carries, made when it was recorded.
        ALTER TABLE outbox ADD COLUMN proof TEXT;
        -- Failed PIN sign-ins per typed operator id: backoff, then lockout.
        CREATE TABLE sign_in_failures (
            operator_id TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_failed_at REAL NOT NULL,
            locked_until REAL NOT NULL DEFAULT 0
        )
        """,
    ),
    # sync: retention, re-sends to a restored hub, re-bootstrap (edge_app.local.recovery)
    (
        12,
        "retained_ops_resends_rebootstrap",
        """
        -- Answered ops stay for a retention window (a hub restored from a backup asks for
        -- them again), then go: pruned by when they were answered.
        CREATE INDEX ix_outbox_acked ON outbox (state, acked_at);
        -- When an answered op was sent again to a restored hub, and its first answer.
        ALTER TABLE outbox ADD COLUMN resent_at TEXT;
        ALTER TABLE outbox ADD COLUMN first_result TEXT;
        -- The last op the hub answered, kept apart from the outbox rows (they are pruned).
        INSERT OR IGNORE INTO meta (key, value)
            SELECT 'acked_seq', CAST(COALESCE(MAX(device_seq), 0) AS TEXT) FROM outbox WHERE state <> 'pending';
        -- Entities received during a re-bootstrap from 0: at its end the others go.
        CREATE TABLE rebootstrap_seen (entity TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (entity, key));
        -- Floor effects settle where the pulled state is whole (meta 'settled', set with the
        -- cursor, below it while a compacted pull is still paging), not at the cursor.
        DROP VIEW live_floor_effects;
        CREATE VIEW live_floor_effects AS
            SELECT e.* FROM floor_effects e JOIN outbox o ON o.device_seq = e.device_seq
            WHERE o.state = 'pending' OR (o.state = 'applied' AND COALESCE(o.change_seq, 0) >
                  CAST(COALESCE((SELECT value FROM meta WHERE key = 'settled'),
                                (SELECT value FROM meta WHERE key = 'cursor'), '0') AS INTEGER))
        """,
    ),
    # carriers: the ship-to address and contact of an order (JSON text, for its label) and
    # the carrier rate table in force (edge_app.workflows.carriers chooses from it offline)
    (
        13,
        "ship_to_and_carrier_rates",
        """
        ALTER TABLE orders ADD COLUMN ship_to TEXT;
        ALTER TABLE orders ADD COLUMN contact TEXT;
        CREATE TABLE carrier_rates (key TEXT PRIMARY KEY, version INTEGER NOT NULL, digest TEXT NOT NULL, data TEXT NOT NULL)
        """,
    ),
    # sync: a task given to one device (a swapped handheld's work, handed over: hub.hand_over)
    (
        14,
        "tasks_assigned_to",
        """
        ALTER TABLE tasks ADD COLUMN assigned_to TEXT
        """,
    ),
    # substitution at pick: what the substitute rule compares, each item's rule, and per order
    # line whether it allows substitutes and what stood in for it (sync.substitutes)
    (
        15,
        "substitutes",
        """
        ALTER TABLE items ADD COLUMN category TEXT;
        ALTER TABLE items ADD COLUMN size_qty INTEGER;
        ALTER TABLE items ADD COLUMN size_unit TEXT;
        ALTER TABLE items ADD COLUMN price_cents INTEGER;
        CREATE INDEX ix_items_category ON items (category);
        CREATE TABLE substitute_rules (
            sku TEXT PRIMARY KEY, substitutes TEXT NOT NULL, by_rule INTEGER NOT NULL, price_band_pct INTEGER NOT NULL
        );
        ALTER TABLE order_lines ADD COLUMN substitutes_allowed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE order_lines ADD COLUMN substitute_sku TEXT;
        ALTER TABLE order_lines ADD COLUMN qty_substituted INTEGER NOT NULL DEFAULT 0
        """,
    ),
    # returns from any channel: the order's signed return code, printed on its packing slip
    # (sync.return_codes), so a store that never saw the order can take it back offline
    (
        16,
        "return_codes",
        """
        ALTER TABLE orders ADD COLUMN return_code TEXT
        """,
    ),
    # foresight: the hub's SLA risk of an order, so at-risk orders come first on the pick lists
    (
        17,
        "order_risk",
        """
        ALTER TABLE orders ADD COLUMN risk_level TEXT;
        ALTER TABLE orders ADD COLUMN risk_reason TEXT
        """,
    ),
    # routing: why the hub sent the order here, in one sentence (hub.domain.routing_rules.Route.why_here)
    (
        18,
        "routing_why",
        """
        ALTER TABLE orders ADD COLUMN routing_why TEXT
        """,
    ),
    # escrow through a restore: the hub's signed word for what it granted (sync.escrow_evidence,
    # JSON), sent with the orders confirmed from the allotment so a restored hub honours them
    (
        19,
        "allotment_evidence",
        """
        ALTER TABLE allotments ADD COLUMN evidence TEXT
        """,
    ),
    # routing: lines a channel ships together (a set, a gift), so the packer packs them together
    (
        20,
        "ship_with",
        """
        ALTER TABLE order_lines ADD COLUMN ship_with TEXT
        """,
    ),
]
