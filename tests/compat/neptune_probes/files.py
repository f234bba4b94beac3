# Written for rundial's tests (not a public example): Neptune's in-memory File values, as the
# public examples use them (pandas, html, dalex, fasttext, zenml scripts of neptune-ai/examples).
# Run under the real client and the shim by tests/compat/test_neptune_real_probes.py.
import io
from pathlib import Path

import neptune
import pandas as pd
from neptune.types import File

run = neptune.init_run(project="common/file-probes", name="files", tags=["probe"])

frame = pd.DataFrame({"sepal": [5.1, 4.9, 4.7], "species": ["setosa", "setosa", "virginica"]})
run["data/frame-html"].upload(File.as_html(frame))
run["html_obj"].upload(File.from_content("<p>hello <b>neptune</b></p>", extension="html"))
run["pickled_explainer"].upload(File.from_content(b"\x80\x04K\x07."))
run["model"].upload(File.as_pickle({"weights": [0.5, 0.25], "name": "tiny"}))

csv_buffer = io.StringIO()
frame.to_csv(csv_buffer, index=False)
run["data/csv-buffer"].upload(File.from_stream(csv_buffer, extension="csv"))
run["data/bytes-tail"].upload(File.from_stream(io.BytesIO(b"0123456789"), seek=4))
run["notes/readme"] = File.from_content("assigned, not uploaded")
run["scores"].append(0.5)

# track_files (data-versioning, tensorflow, fasttext scripts): a directory, a file
Path("data/tables").mkdir(parents=True, exist_ok=True)
Path("data/tables/train.csv").write_text("sepal,species\n5.1,setosa\n")
Path("data/tables/test.csv").write_text("sepal,species\n4.7,virginica\n")
Path("data/readme.txt").write_text("iris sample")
run["datasets/tables"].track_files("data/tables")
run["datasets/readme"].track_files("data/readme.txt", destination="docs")

run.stop()
