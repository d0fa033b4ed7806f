# %% [markdown]
# # 02 · Review the suggestions, decide in bulk, export the upload
#
# Run the month into a workspace, filter what needs a human, override decisions in bulk (the
# rule engine's guards say no, with the portal's reason, to anything the portal would refuse)
# and write the upload JSON. Every decision lands in the workspace's append-only log.

# %%
import tempfile
from pathlib import Path

import polars as pl

from imsdata import decisions
from imsdata.pipeline import run
from imsdata.rules import try_decisions
from imsdata.sample import sample_paths
from imsdata.workspace import Workspace

pl.Config.set_fmt_str_lengths(80)
work = Path(tempfile.mkdtemp(prefix="imsdata-nb02-"))
paths = sample_paths()
result = run([paths["ims"]], paths["register"], out_dir=work / "out", workspace=work / "ws.duckdb")
ws = Workspace(work / "ws.duckdb")

# %% [markdown]
# ## What the rules suggest

# %%
suggestions = result.suggestions.join(
    result.matches.select("doc_key", "match_status", "reasons"), on="doc_key"
)
suggestions.group_by("action", "rule_id").len().sort("action", "rule_id")

# %% [markdown]
# ## Filter: everything left pending
# These are the documents a person should look at before the 14th.

# %%
pending = suggestions.filter(pl.col("action") == "pending").join(
    result.ims.select("doc_key", "supplier_name", "doc_number", "pending_blocked"), on="doc_key"
)
pending.select("supplier_name", "doc_number", "match_status", "rule_id", "reasons")

# %% [markdown]
# ## Try a bulk override first
# Say we want to accept everything pending. `try_decisions` returns what the guards refuse
# (for instance: accepting a document that is not in our books).

# %%
attempt = pending.select("doc_key", pl.lit("accept").alias("action"))
refused = try_decisions(result.ims, result.matches, attempt)
refused.select("doc_key", "guard_id", "message")

# %% [markdown]
# ## Decide what the guards allow
# Accept the pending documents that are in the books; the refused ones stay as suggested.

# %%
allowed = attempt.join(refused.select("doc_key").unique(), on="doc_key", how="anti").with_columns(
    reason=pl.lit("reviewed in notebook 02: amounts agreed with the supplier")
)
if allowed.height:
    ws.decide(allowed, user="analyst")
current = ws.current_decisions()
current.group_by("action", "source").len().sort("action", "source")

# %% [markdown]
# ## Export the upload JSON
# Through the same decision path as `imsdata export` and `imsdata run`: only documents whose
# action differs from the portal's last known state go out, never a rule's change of an action a
# person took on the portal, and the guards check every record.

# %%
month = decisions.from_workspace(ws)
export = decisions.export(month, work / "upload")
[(p.name, p.stat().st_size) for p in export.paths]

# %% [markdown]
# ## Conflicts with the portal
# Rule suggestions that disagree with an action a person already took on the portal: not sent.

# %%
decisions.conflicts(month.ims, month.decisions).select(
    "supplier_gstin", "doc_number", "portal_action", "suggested", "rule_id"
)

# %%
ws.close()
