# Installing by name (issue 17, item 1): build.ps1 Publish's .nupkg is published to a local
# PSResourceGet repository, installed by name into a temporary user's module folder, imported by
# name and used, all in a fresh pwsh whose HOME is a temporary folder: the real user's PSResourceGet
# settings and module folders are never read or written, and no gallery is asked.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $root = Get-RepoRoot
    $version = (Import-PowerShellDataFile (Get-ModuleManifestPath)).ModuleVersion
    $work = New-TestDirectory
    # The runtimes PowerShell 7.4+ supports: the package ships native SQLite for these and no others.
    $supported = @('win-x64', 'win-x86', 'win-arm64', 'linux-x64', 'linux-arm64', 'linux-arm', 'linux-musl-x64', 'linux-musl-arm64', 'osx-x64', 'osx-arm64')

    # The package of the module this run built (build.ps1 Test has built it; -NoBuild lays it out
    # and packs it without compiling again: ~10 s).
    $pwsh = Get-PwshCommand
    $output = & $pwsh.Path @($pwsh.Arguments) -File (Join-Path $root 'build.ps1') Publish -NoBuild 2>&1
    if ($LASTEXITCODE -ne 0) { throw "build.ps1 Publish failed:`n$($output -join "`n")" }
    $package = Join-Path $root "out/publish/NSelf.Usage.$version.nupkg"

    # A user with nothing installed: HOME (where PSResourceGet keeps its repositories and
    # -Scope CurrentUser installs) and the module path point into the test's folder only.
    $userHome = Join-Path $work 'home'
    $userModules = Join-Path $userHome '.local/share/powershell/Modules'
    New-Item -ItemType Directory -Path $userModules -Force | Out-Null
    $repository = Join-Path $work 'repository'
    New-Item -ItemType Directory -Path $repository | Out-Null
    $userEnvironment = @{
        HOME = $userHome; USERPROFILE = $userHome; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null
        LOCALAPPDATA = $null; PSModulePath = $userModules + [IO.Path]::PathSeparator + (Join-Path $PSHOME 'Modules')
        NSELF_USAGE_STORE = (Join-Path $work 'usage.db'); NSELF_CUSTOMER_ID = $null
    }
}

AfterAll {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'The published package' {
    It 'is at most 15 MB' {
        $package | Should -Exist
        (Get-Item -LiteralPath $package).Length | Should -BeLessOrEqual 15MB
    }

    It 'carries the licence, the tags and this version''s release notes from CHANGELOG.md' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($package)
        try {
            $names = @($zip.Entries.FullName)
            $names | Should -Contain 'LICENSE'
            $nuspec = $zip.Entries | Where-Object FullName -like '*.nuspec'
            $reader = [IO.StreamReader]::new($nuspec.Open())
            try { [xml] $spec = $reader.ReadToEnd() } finally { $reader.Dispose() }
        }
        finally { $zip.Dispose() }
        $metadata = $spec.package.metadata
        $metadata.id | Should -Be 'NSelf.Usage'
        $metadata.version | Should -Be $version
        $tags = $metadata.tags -split '\s+'
        foreach ($tag in 'PSEdition_Core', 'Windows', 'Linux', 'MacOS', 'metering', 'billing') { $tags | Should -Contain $tag }
        $metadata.releaseNotes | Should -Match 'exactly once'
        $metadata.releaseNotes | Should -Not -Match '^## '
    }
}

Describe 'Install-PSResource NSelf.Usage' {
    It 'installs by name from a local repository, imports by name and tracks and reports, in a fresh pwsh with a temporary user' {
        $lines = Invoke-Pwsh -Environment $userEnvironment -Script @"
`$ErrorActionPreference = 'Stop'
`$PSStyle.OutputRendering = 'PlainText'
Register-PSResourceRepository -Name NSelfUsageTest -Uri '$repository' -Trusted
try {
    Publish-PSResource -NupkgPath '$package' -Repository NSelfUsageTest
    Install-PSResource NSelf.Usage -Repository NSelfUsageTest -Scope CurrentUser -TrustRepository
    'repositories: ' + ((Get-PSResourceRepository).Name -join ',')
}
finally {
    Unregister-PSResourceRepository -Name NSelfUsageTest
}
Import-Module NSelf.Usage
`$module = Get-Module NSelf.Usage
'base: ' + `$module.ModuleBase
'version: ' + `$module.Version
Add-UsageApiRequest /v1/orders POST 201 -CustomerId cus_installed -EventId installed-1
Add-UsageApiRequest /v1/orders POST 201 -CustomerId cus_installed -EventId installed-1
`$usage = Get-Usage -CustomerId cus_installed -Service api
'events: ' + `$usage.Events
'quantity: ' + `$usage.Quantity.ToString([cultureinfo]::InvariantCulture)
'left: ' + ((Get-PSResourceRepository).Name -join ',')
"@
        $expectedBase = Join-Path $userModules "NSelf.Usage/$version"
        $lines | Should -Contain "base: $expectedBase"
        $lines | Should -Contain "version: $version"
        $lines | Should -Contain 'events: 1'
        $lines | Should -Contain 'quantity: 1'
        # The test's repository was registered while installing, and is gone afterwards.
        ($lines | Where-Object { $_ -like 'repositories: *' }) | Should -Match 'NSelfUsageTest'
        ($lines | Where-Object { $_ -like 'left: *' }) | Should -Not -Match 'NSelfUsageTest'

        # The installed folder ships native SQLite for the supported runtimes only, this machine's among them.
        $runtimes = @(Get-ChildItem -LiteralPath (Join-Path $expectedBase 'bin/deps/runtimes') -Directory | ForEach-Object Name)
        $runtimes | Should -Not -BeNullOrEmpty
        @($runtimes | Where-Object { $_ -notin $supported }) | Should -BeNullOrEmpty
        # This machine's portable runtime id (RuntimeInformation.RuntimeIdentifier may be a distribution's own).
        $os = $IsWindows ? 'win' : ($IsMacOS ? 'osx' : ((Test-Path /etc/alpine-release) ? 'linux-musl' : 'linux'))
        $runtimes | Should -Contain ("$os-" + [Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant())
        Join-Path $expectedBase 'LICENSE' | Should -Exist
    }
}
