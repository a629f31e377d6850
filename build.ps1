#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, demonstrates, benchmarks and packages NSelf.Usage.
.DESCRIPTION
    One entry point. After Build, Import-Module ./NSelf.Usage.psd1 from the repository root
    loads the freshly built module (bin/ holds the cmdlets, bin/deps/ the engine and its
    private dependencies, en-US/ the generated help).
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Demo
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Help')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Test: run only these parts (default: all).
    [ValidateSet('Engine', 'Cmdlets', 'Pester')]
    [string[]] $Only
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$Manifest = Import-PowerShellDataFile (Join-Path $Root 'NSelf.Usage.psd1')
$Version = $Manifest.ModuleVersion

# A fresh pwsh for work that must not share this session (loading the module being built,
# running Pester). Works whether pwsh is the dotnet tool (pwsh.dll under dotnet) or installed.
function Invoke-FreshPwsh {
    param([string[]] $Arguments)
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet' -and (Test-Path $dll)) {
        Invoke-Native ([Environment]::ProcessPath) (@($dll, '-NoProfile', '-NonInteractive') + $Arguments)
    }
    else {
        Invoke-Native (Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')) (@('-NoProfile', '-NonInteractive') + $Arguments)
    }
}

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build {
    $bin = Join-Path $Root 'bin'
    if (Test-Path $bin) { Remove-Item $bin -Recurse -Force }
    Write-Host "Building NSelf.Usage $Version ($Configuration)" -ForegroundColor Cyan
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/NSelf.Usage/NSelf.Usage.csproj'), '-c', $Configuration, '-o', $bin, '--nologo', '-v', 'quiet')
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/NSelf.Usage.Engine/NSelf.Usage.Engine.csproj'), '-c', $Configuration, '-o', (Join-Path $bin 'deps'), '--nologo', '-v', 'quiet')
    Invoke-Help
}

# Help is generated from docs/*.md (one page per command) into MAML, and the about_ topic into text.
function Invoke-Help {
    Invoke-FreshPwsh @('-File', (Join-Path $Root 'eng/New-ModuleHelp.ps1'), '-ModulePath', (Join-Path $Root 'NSelf.Usage.psd1'),
        '-DocsPath', (Join-Path $Root 'docs'), '-OutputPath', (Join-Path $Root 'en-US'))
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Help' { Invoke-Help }
}
