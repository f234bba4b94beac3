-- workspaces, projects, api_keys, runs, run_start_tokens, run_meta, run_edits, ui_sessions (store/postgres/control.py)
SELECT 1;  -- placeholder until the part lands
