; Inno Setup script of TACE Planner for Windows: a per-user install (no administrator rights),
; a Start menu entry, an optional desktop icon and an optional "Import into TACE Planner" on
; folders and drives (CDs with a DICOMDIR). Build the bundle first (installer/README.md), then:
;   iscc /DAppVersion=0.1.0 installer\tace-planner.iss
; which writes build\tace-planner-0.1.0-windows-x64-setup.exe.
; Not built or run on the development machine (Linux); see installer/README.md.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "TACE Planner"
#define Bundle "..\build\dist\tace-planner"

[Setup]
AppId={{6E0C2C57-3B7B-4C59-9E0B-7A4B1F2D9C11}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=TACE Planner maintainers
DefaultDirName={localappdata}\Programs\TACE Planner
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\build
OutputBaseFilename=tace-planner-{#AppVersion}-windows-x64-setup
SetupIconFile=icons\tace-planner.ico
UninstallDisplayIcon={app}\TACE Planner.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "dicomdir"; Description: "Import a CD or folder (with its DICOMDIR) into {#AppName} from its right-click menu"; GroupDescription: "Explorer:"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\TACE Planner.exe"
; cmd /k keeps the console open on the report after the self-test ends.
Name: "{group}\{#AppName} self-test"; Filename: "{cmd}"; Parameters: "/k """"{app}\tace-planner.exe"" --self-test"""
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\TACE Planner.exe"; Tasks: desktopicon

[Registry]
; A DICOMDIR file has no extension, so Windows cannot associate it by type: the per-user verb
; goes on folders and drives instead (a CD's root holds its DICOMDIR); the import reads it.
Root: HKCU; Subkey: "Software\Classes\Directory\shell\TACEPlanner"; ValueType: string; ValueName: ""; ValueData: "Import into {#AppName}"; Flags: uninsdeletekey; Tasks: dicomdir
Root: HKCU; Subkey: "Software\Classes\Directory\shell\TACEPlanner\command"; ValueType: string; ValueName: ""; ValueData: """{app}\tace-planner.exe"" import ""%1"""; Tasks: dicomdir
Root: HKCU; Subkey: "Software\Classes\Drive\shell\TACEPlanner"; ValueType: string; ValueName: ""; ValueData: "Import into {#AppName}"; Flags: uninsdeletekey; Tasks: dicomdir
Root: HKCU; Subkey: "Software\Classes\Drive\shell\TACEPlanner\command"; ValueType: string; ValueName: ""; ValueData: """{app}\tace-planner.exe"" import ""%1"""; Tasks: dicomdir

[Run]
Filename: "{app}\TACE Planner.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
