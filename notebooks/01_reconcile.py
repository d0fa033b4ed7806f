# %% [markdown]
# # 01 · Reconcile the IMS download against the purchase register
#
# Load the month's IMS download and the purchase register as the ERP exported it, reconcile
# them, look at what did not match and ask imsdata *why*. Every step is one imsdata call; this
# notebook holds no logic of its own. It runs on the bundled sample: point `paths` at your own
# files to work on a real month.

# %%
import polars as pl

from imsdata import decisions
from imsdata.portal.read import read
from imsdata.reconcile import Tolerances, explain, reconcile
from imsdata.register import read_register
from imsdata.sample import sample_paths

pl.Config.set_tbl_rows(20)
pl.Config.set_fmt_str_lengths(80)
paths = sample_paths()
paths

# %% [markdown]
# ## Read the IMS download
# One row per document, money as `Decimal`, every record either loaded or in `rejects` with
# the reason; warnings (bad GSTIN check character, tax heads that do not add up) are kept apart.

# %%
ims_result = read([paths["ims"]])
ims = ims_result.documents
print(
    f"{ims.height} documents, {ims_result.rejects.height} rejects, "
    f"{ims_result.warnings.height} warnings"
)
ims.group_by("section").agg(pl.len(), pl.col("taxable_value").sum()).sort("section")

# %%
ims_result.warnings.select("section", "index", "key", "reason").head(10)

# %% [markdown]
# ## Read the purchase register
# Headers are recognised from common ERP spellings (or a mapping file / preset).

# %%
books = read_register(paths["register"])
register = books.documents
print(books.mapping_used)
register.group_by("doc_type", "in_scope").len().sort("doc_type", "in_scope")

# %% [markdown]
# ## Reconcile
# One-to-one, best-first matching in DuckDB SQL with the default tolerances (Rs 1, 10 days).

# %%
tolerances = Tolerances()
# our GSTIN as every imsdata command works it out (the download, else the register): the
# reconciliation compares it with the GSTIN each register row was booked under
ims = decisions.with_recipient(ims, decisions.recipient_gstin(None, ims, register))
matches = reconcile(ims, register, tolerances=tolerances)
matches.group_by("match_status").agg(pl.len().alias("documents")).sort("documents", descending=True)

# %% [markdown]
# ## Explore the mismatches
# Each differing field is named in `reasons`, with the amounts on both sides.

# %%
mismatches = (
    matches.filter(pl.col("match_status").is_in(["mismatch", "pan_match", "probable"]))
    .join(ims.select("doc_key", "supplier_name", "doc_number", "taxable_value"), on="doc_key")
    .select(
        "match_status", "supplier_name", "doc_number", "taxable_value", "match_score", "reasons"
    )
    .sort("match_status", "match_score")
)
mismatches

# %% [markdown]
# ## Why did this document not match?
# `explain` lists the nearest candidates in the books and the test each one failed.

# %%
missing = matches.filter(pl.col("match_status") == "missing_in_register").sort("doc_key")
doc = missing["doc_key"][0]
print(doc)
explain(doc, ims, register)
