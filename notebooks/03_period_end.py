# %% [markdown]
# # 03 · Period-end report
#
# ITC accepted, rejected, pending and deemed accepted; what is at risk; the reconciliation
# picture; suppliers to chase; pending ageing; a GSTR-3B Table 4 preview. The same tables and
# charts go into `report.html` and `report.xlsx` (`imsdata report`).

# %%
import tempfile
from pathlib import Path

from imsdata.pipeline import run
from imsdata.report import build_report, figures, format_inr
from imsdata.sample import sample_paths

work = Path(tempfile.mkdtemp(prefix="imsdata-nb03-"))
paths = sample_paths()
result = run([paths["ims"]], paths["register"], out_dir=work / "out", workspace=work / "ws.duckdb")
report = build_report(
    result.ims,
    result.matches,
    result.decisions,
    gstin=result.recipient_gstin,
    period=result.period,
    register=result.register,
)
{k: (format_inr(v) if hasattr(v, "quantize") else v) for k, v in report.headline.items()}

# %% [markdown]
# ## The tables

# %%
from IPython.display import Markdown, display  # frames as tables, not text

for table in report.tables:
    display(Markdown(f"**{table.title}**"), table.frame)

# %% [markdown]
# ## The charts

# %%
charts = figures(report)
for fig in charts.values():
    fig.show()
