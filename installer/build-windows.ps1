# Build the Windows bundle and its installer (run in PowerShell on Windows; not run on the
# Linux CI). Needs Python 3.11+ and Inno Setup 6 (iscc.exe on PATH).
#   build\dist\tace-planner\                        the bundle
#   build\tace-planner-VERSION-windows-x64-setup.exe the per-user installer
$ErrorActionPreference = "Stop"
Set-Location (Split-Path $PSScriptRoot -Parent)
python -m venv .venv-bundle
.\.venv-bundle\Scripts\python -m pip install -e ".[bundle]"
$version = & .\.venv-bundle\Scripts\python -c "import tace_planner; print(tace_planner.__version__)"
.\.venv-bundle\Scripts\python installer\make_icons.py
.\.venv-bundle\Scripts\python -m PyInstaller --noconfirm --clean --log-level WARN `
  --distpath build\dist --workpath build\pyinstaller installer\tace-planner.spec
$env:QT_QPA_PLATFORM = "offscreen"
& build\dist\tace-planner\tace-planner.exe --self-test
if ($LASTEXITCODE -ne 0) { throw "self-test failed" }
Remove-Item Env:\QT_QPA_PLATFORM
iscc /DAppVersion=$version installer\tace-planner.iss
