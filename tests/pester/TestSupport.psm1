# Shared helpers of the Pester suites. Every suite runs against the built module in a fresh
# pwsh started by build.ps1 Test, with real SQLite files in a temporary folder.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ModuleManifest = Join-Path $script:RepoRoot 'NSelf.Usage.psd1'

function Get-ModuleManifestPath { $script:ModuleManifest }

function Get-RepoRoot { $script:RepoRoot }

# A folder for one test, removed by the caller (or left for inspection under TestResults when CI fails).
function New-TestDirectory {
    $path = Join-Path ([IO.Path]::GetTempPath()) ("nself-usage-test-" + [guid]::NewGuid().ToString('n').Substring(0, 12))
    New-Item -ItemType Directory -Path $path | Out-Null
    $path
}

# How to start a fresh pwsh like this one: pwsh itself, or dotnet with pwsh.dll (the local tool).
# @(...) around the if: a lone path would otherwise be a string, and string + array concatenates.
function Get-PwshCommand {
    $path = [Environment]::ProcessPath
    $arguments = @(if ([IO.Path]::GetFileNameWithoutExtension($path) -eq 'dotnet' -and (Test-Path (Join-Path $PSHOME 'pwsh.dll'))) { Join-Path $PSHOME 'pwsh.dll' })
    if (-not $arguments -and [IO.Path]::GetFileNameWithoutExtension($path) -eq 'dotnet') { $path = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh') }
    [pscustomobject]@{ Path = $path; Arguments = $arguments + @('-NoProfile', '-NonInteractive') }
}

# The session culture of this run: build.ps1 -Culture names it in NSELF_TEST_CULTURE (and in
# LC_ALL, where .NET on Linux reads it). Child pwsh processes get it through Get-ChildEnvironment.
function Get-TestCulture { $env:NSELF_TEST_CULTURE ? $env:NSELF_TEST_CULTURE : [Globalization.CultureInfo]::CurrentCulture.Name }

# The environment of a child pwsh: NO_COLOR, the session culture of the run (LC_ALL, which .NET
# on Linux takes CurrentCulture and CurrentUICulture from), then the test's own variables, which win.
function Get-ChildEnvironment([hashtable] $Environment) {
    $base = @{ NO_COLOR = '1' }
    if ($env:NSELF_TEST_CULTURE) {
        $base['LC_ALL'] = $env:NSELF_TEST_CULTURE.Replace('-', '_') + '.UTF-8'
        $base['NSELF_TEST_CULTURE'] = $env:NSELF_TEST_CULTURE
    }
    foreach ($key in $Environment.Keys) { $base[$key] = $Environment[$key] }
    $base
}

# Starts a script file in its own pwsh process, not waited for, with the given environment; its
# output goes to <OutputPrefix>.out and .err. Returns the process.
function Start-PwshProcess {
    param([Parameter(Mandatory)] [string] $File, [hashtable] $Environment = @{}, [Parameter(Mandatory)] [string] $OutputPrefix)
    $saved = @{}
    $Environment = Get-ChildEnvironment $Environment
    foreach ($key in $Environment.Keys) { $saved[$key] = [Environment]::GetEnvironmentVariable($key); [Environment]::SetEnvironmentVariable($key, $Environment[$key]) }
    try {
        $pwsh = Get-PwshCommand
        Start-Process -FilePath $pwsh.Path -ArgumentList ($pwsh.Arguments + @('-File', $File)) -PassThru `
            -RedirectStandardOutput "$OutputPrefix.out" -RedirectStandardError "$OutputPrefix.err"
    }
    finally {
        foreach ($key in $saved.Keys) { [Environment]::SetEnvironmentVariable($key, $saved[$key]) }
    }
}

# A store for a test on the given backend: a SQLite file in Directory, or a new PostgreSQL
# database on the test server, added to Databases for the caller to remove.
function New-BackendStore {
    param([Parameter(Mandatory)] [string] $Backend, [Parameter(Mandatory)] [string] $Directory, [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[string]] $Databases)
    if ($Backend -eq 'SQLite') { return Join-Path $Directory "$Backend-$Name.db" }
    $database = New-TestPostgresDatabase
    $Databases.Add($database)
    $database
}

# The stores every store-touching suite runs on, as Describe -ForEach data (built in BeforeDiscovery,
# where Pester 5 needs it). -WithAvailability adds Available, for the in-process suites that decide
# their PostgreSQL skip at discovery (Test-PostgresAvailable throws there in CI without a server).
function Get-TestBackend([switch] $WithAvailability) {
    if (-not $WithAvailability) { return @(@{ Backend = 'SQLite' }; @{ Backend = 'PostgreSQL' }) }
    $postgres = Test-PostgresAvailable
    @(@{ Backend = 'SQLite'; Available = $true }; @{ Backend = 'PostgreSQL'; Available = $postgres })
}

# The set-up of a suite that runs the module in fresh pwsh processes: the manifest, a work folder
# and the list New-BackendStore adds PostgreSQL databases to. Pester 5 cannot share a BeforeAll, so
# each suite assigns the three from this one call: $manifest, $work, $databases = New-SuiteFixture
function New-SuiteFixture {
    Get-ModuleManifestPath
    New-TestDirectory
    Write-Output -NoEnumerate ([System.Collections.Generic.List[string]]::new())
}

# The AfterAll of New-SuiteFixture: drops the suite's databases and removes its work folder.
function Remove-SuiteFixture {
    param([Parameter(Mandatory)] [string] $Work, [AllowEmptyCollection()] [System.Collections.Generic.List[string]] $Databases = @())
    foreach ($database in $Databases) { Remove-TestPostgresDatabase $database }
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}

# The BeforeEach of a suite on both stores: a PostgreSQL test without a server is Skipped locally
# (in CI Test-PostgresAvailable throws instead, so the PostgreSQL half cannot go missing there).
function Skip-WithoutPostgres {
    param([Parameter(Mandatory)] [string] $Backend, [string] $Because = 'no PostgreSQL test server')
    if ($Backend -eq 'PostgreSQL' -and -not (Test-PostgresAvailable)) { Set-ItResult -Skipped -Because $Because }
}

# The set-up of a suite that runs the module in this session: imports it (globally, so the tests
# see its commands) and points the session's environment at a new work folder, with no time zone
# and the cache and exports inside the folder. Returns the folder and the variables as they were:
# $work, $saved = New-InProcessFixture
function New-InProcessFixture {
    Import-Module $script:ModuleManifest -Force -Global
    $work = New-TestDirectory
    $saved = @{}
    foreach ($name in 'NSELF_USAGE_STORE', 'NSELF_CUSTOMER_ID', 'NSELF_USAGE_TIMEZONE', 'BILLING_CACHE_DIR', 'BILLING_EXPORT_DIR') {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
    }
    $env:NSELF_USAGE_TIMEZONE = $null
    $env:BILLING_CACHE_DIR = Join-Path $work 'cache'
    $env:BILLING_EXPORT_DIR = Join-Path $work 'exports'
    $work
    $saved
}

# The AfterAll of New-InProcessFixture: unloads the module, puts the environment back, removes the folder.
function Remove-InProcessFixture {
    param([Parameter(Mandatory)] [string] $Work, [Parameter(Mandatory)] [hashtable] $Saved)
    Remove-Module NSelf.Usage -ErrorAction SilentlyContinue
    foreach ($name in $Saved.Keys) { [Environment]::SetEnvironmentVariable($name, $Saved[$name]) }
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}

# Points this session at a new store on the backend, through NSELF_USAGE_STORE: a new PostgreSQL
# database, or the SQLite file at Path. Returns the database for Remove-SessionStore ($null on SQLite).
function Use-SessionStore {
    param([Parameter(Mandatory)] [string] $Backend, [Parameter(Mandatory)] [string] $Path)
    if ($Backend -ne 'PostgreSQL') { $env:NSELF_USAGE_STORE = $Path; return $null }
    $database = New-TestPostgresDatabase
    $env:NSELF_USAGE_STORE = $database
    $database
}

# The AfterAll of Use-SessionStore: drops the database, if there is one, and unsets the store.
function Remove-SessionStore([string] $Database) {
    if ($Database) { Remove-TestPostgresDatabase $Database }
    Remove-Item Env:NSELF_USAGE_STORE -ErrorAction SilentlyContinue
}

# Runs a script in a new pwsh process and returns its output lines; throws on a non-zero exit.
function Invoke-Pwsh {
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{}, [string] $WorkingDirectory = (Get-Location).Path, [switch] $AllowFailure)
    $file = Join-Path ([IO.Path]::GetTempPath()) ("nself-usage-" + [guid]::NewGuid().ToString('n') + '.ps1')
    Set-Content -LiteralPath $file -Value $Script -Encoding utf8NoBOM
    $Environment = Get-ChildEnvironment $Environment
    $saved = @{}
    foreach ($key in $Environment.Keys) { $saved[$key] = [Environment]::GetEnvironmentVariable($key); [Environment]::SetEnvironmentVariable($key, $Environment[$key]) }
    try {
        $pwsh = Get-PwshCommand
        Push-Location $WorkingDirectory
        $output = & $pwsh.Path @($pwsh.Arguments) -File $file 2>&1
        $code = $LASTEXITCODE
        Pop-Location
        if ($code -ne 0 -and -not $AllowFailure) { throw "pwsh exited with $code`n$($output -join "`n")" }
        # Plain text: an escape character in a failure message breaks Pester's XML report.
        $output | ForEach-Object { "$_" -replace '\x1b\[[0-9;]*[A-Za-z]', '' }
    }
    finally {
        foreach ($key in $saved.Keys) { [Environment]::SetEnvironmentVariable($key, $saved[$key]) }
        Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue
    }
}

# The throwaway PostgreSQL server build.ps1 Test started ($env:NSELF_TEST_POSTGRES holds its
# admin connection string). Without one the PostgreSQL tests are skipped locally and fail in CI.
function Test-PostgresAvailable {
    if ($env:NSELF_TEST_POSTGRES) { return $true }
    if ($env:CI -eq 'true') { throw 'NSELF_TEST_POSTGRES is not set, and CI must run the PostgreSQL tests.' }
    $false
}

function ConvertTo-PostgresUri([string] $ConnectionString) {
    $parts = @{}
    foreach ($pair in $ConnectionString -split ';' | Where-Object { $_ }) {
        $key, $value = $pair -split '=', 2
        $parts[$key.Trim().ToLowerInvariant()] = $value.Trim()
    }
    $user = [uri]::EscapeDataString($parts['username'])
    $password = [uri]::EscapeDataString($parts['password'])
    "postgresql://${user}:$password@$($parts['host']):$($parts['port'])/$($parts['database'])"
}

# psql in the C locale: Debian's psql wrapper (Perl) warns on stderr, which is read here as output,
# when the session culture's locale (LC_ALL, set for .NET by build.ps1 -Culture) is not installed.
function Invoke-Psql([string] $ConnectionString, [string] $Sql) {
    $saved = $env:LC_ALL
    $env:LC_ALL = 'C.UTF-8'
    try {
        $output = & psql (ConvertTo-PostgresUri $ConnectionString) -X -q -A -t -v ON_ERROR_STOP=1 -c $Sql 2>&1
        if ($LASTEXITCODE) { throw "psql failed: $output" }
        $output
    }
    finally { $env:LC_ALL = $saved }
}

# Plain SQL against a store, as nself's tools or an operator write it: psql for a PostgreSQL
# connection string, the sqlite3 shell for a SQLite file (quantities scaled by 10^6 and times in
# microseconds there). The shell waits up to 10 s for a lock the module holds, as an operator's would.
function Invoke-StoreSql([string] $Store, [string] $Sql) {
    if ($Store -match '(^|;)\s*Host\s*=') { return Invoke-Psql $Store $Sql }
    if (-not (Get-Command sqlite3 -ErrorAction SilentlyContinue)) { throw 'These tests write plain SQL with the sqlite3 shell; install it (apt-get install sqlite3).' }
    $output = & sqlite3 -bail -cmd '.timeout 10000' $Store $Sql 2>&1
    if ($LASTEXITCODE) { throw "sqlite3 failed: $output" }
    $output
}

# A new, empty database on the test server; returns its connection string.
function New-TestPostgresDatabase {
    $name = 'usage_pester_' + [guid]::NewGuid().ToString('n').Substring(0, 12)
    Invoke-Psql $env:NSELF_TEST_POSTGRES "CREATE DATABASE $name" | Out-Null
    ($env:NSELF_TEST_POSTGRES -replace 'Database=[^;]*', "Database=$name")
}

function Remove-TestPostgresDatabase([string] $ConnectionString) {
    $name = [regex]::Match($ConnectionString, 'Database=([^;]*)').Groups[1].Value
    Invoke-Psql $env:NSELF_TEST_POSTGRES "DROP DATABASE IF EXISTS $name WITH (FORCE)" | Out-Null
}

# A small tmpfs at Path for the full-disk tests. Returns nothing when it is mounted, or why it
# could not be (not Linux, not root, or mount refused, as in a container without CAP_SYS_ADMIN).
# A mount that failed must not leave the test filling the real disk, so the exit code is checked.
function Mount-SmallDisk([string] $Path, [string] $Size) {
    if (-not $IsLinux) { return 'mounting a small file system needs Linux' }
    if ((& id -u) -ne '0') { return 'mounting a small file system needs root' }
    New-Item -ItemType Directory -Path $Path -Force | Out-Null
    $output = & mount -t tmpfs -o "size=$Size" tmpfs $Path 2>&1
    if ($LASTEXITCODE -ne 0) { return "mounting a $Size tmpfs at $Path failed: $output" }
}

# A test that cannot run here: under CI=true that is a failure (CI runs as root and must run
# every test), anywhere else a visible Skipped with the reason, never a pass.
function Skip-UnlessCI([Parameter(Mandatory)] [string] $Because) {
    if ($env:CI -eq 'true') { throw "This test must run in CI but cannot: $Because" }
    Set-ItResult -Skipped -Because $Because
}

# The examples of docs/<Command>.md: title and code of each '### Example' under '## EXAMPLES', and
# the lines of its '```output' block, if it has one: what the page states the example shows
# (amounts, quantities, key fields), each line to be found in the example's output.
function Get-DocumentedExample {
    param([string] $DocsPath = (Join-Path $script:RepoRoot 'docs'))
    foreach ($page in Get-ChildItem -Path $DocsPath -Filter '*-*.md') {
        $inExamples = $false; $title = $null; $fence = $null
        $code = [System.Collections.Generic.List[string]]::new(); $expected = [System.Collections.Generic.List[string]]::new()
        $flush = {
            if ($title -and $code.Count) {
                [pscustomobject]@{ Command = $page.BaseName; Title = $title; Code = ($code -join "`n"); Expected = @($expected) }
            }
        }
        foreach ($line in Get-Content -LiteralPath $page.FullName) {
            if (-not $fence -and $line -match '^## (.+)$') { & $flush; $title = $null; $code.Clear(); $expected.Clear(); $inExamples = $Matches[1] -eq 'EXAMPLES'; continue }
            if (-not $inExamples) { continue }
            if (-not $fence -and $line -match '^### (.+)$') { & $flush; $title = $Matches[1]; $code.Clear(); $expected.Clear(); continue }
            if ($line -match '^```(\w*)') { $fence = $fence ? $null : ($Matches[1] -eq 'output' ? 'output' : 'code'); continue }
            if ($fence -eq 'code' -and $title) { $code.Add($line) }
            elseif ($fence -eq 'output' -and $title -and $line.Trim()) { $expected.Add($line) }
        }
        & $flush
    }
}

# The documented output lines that the actual output (Out-String text) lacks. Lines compare with
# runs of white space as one space (column widths vary), '...' standing for anything (an id, a time
# relative to now), and numbers with a decimal point or digit groups compared by value: the page
# writes 32.00 or 130000 invariantly, the output shows them in the session culture (32,00 and
# 130.000 under de-DE; the views group digits) and at the scale the value has (32.000 and 32.00 are
# the same amount), so a wrong amount fails in every culture.
function Get-MissingOutputLine {
    param([string[]] $Expected, [string] $Actual)
    $invariant = [Globalization.CultureInfo]::InvariantCulture
    $culture = [Globalization.CultureInfo]::CurrentCulture
    # Output in the session culture, or invariant (file contents, JSON, -f of strings) in any culture.
    $canonical = {
        param([string] $Text, [Globalization.CultureInfo[]] $In)
        # fr-FR groups digits with a narrow no-break space (U+202F), which the whitespace collapse
        # below would make a column gap: such a separator between digits is dropped first (a table
        # pads its columns with plain spaces, so "150  100" stays two numbers).
        foreach ($c in $In) {
            $group = $c.NumberFormat.NumberGroupSeparator
            # (-notmatch, not -ne: PowerShell compares strings by culture, and a no-break space equals ' ' there.)
            if ($group -match '^\s+$' -and $group -notmatch '^ $') { $Text = $Text -replace "(?<=\d)$([regex]::Escape($group))(?=\d{3})", '' }
        }
        $text = ($Text -replace '\s+', ' ').Trim()
        foreach ($c in $In) {
            $separator = [regex]::Escape($c.NumberFormat.NumberDecimalSeparator)
            $group = [regex]::Escape($c.NumberFormat.NumberGroupSeparator)
            # Grouped first (1,234,567.89): a leading 1-9 and groups of exactly three digits, so 0.028 and 48.5 are not groups.
            $text = [regex]::Replace($text, "(?<![\d.,])-?[1-9]\d{0,2}(?:$group\d{3})+(?:$separator\d+)?(?![\d]|[.,]\d)", {
                param($m) [decimal]::Parse($m.Value, [Globalization.NumberStyles]::Number, $c).ToString('0.############################', $invariant)
            })
            $text = [regex]::Replace($text, "(?<![\d.,])-?\d+$separator\d+(?![\d]|[.,]\d)", {
                param($m) [decimal]::Parse($m.Value, [Globalization.NumberStyles]::Number, $c).ToString('0.############################', $invariant)
            })
        }
        $text
    }
    $lines = @($Actual -split '\r?\n' | ForEach-Object { & $canonical $_ @($culture, $invariant) } | Where-Object { $_ })
    foreach ($line in $Expected) {
        $pattern = ((($line -replace '\s+', ' ').Trim() -split '\.\.\.') | ForEach-Object { [regex]::Escape((& $canonical $_ @($invariant))) }) -join '.*'
        if (-not ($lines | Where-Object { $_ -match "^$pattern$" })) { $line }
    }
}

# Realistic sample data so reading examples have something to show: two customers, all six
# services, spread over the current and previous UTC day.
$script:SeedScript = @'
$now = [datetimeoffset]::UtcNow
foreach ($customer in 'cus_demo', 'cus_acme') {
    foreach ($h in 1..6) {
        $at = $now.AddHours(-$h)
        Add-UsageApiRequest /api/users GET 200 -CustomerId $customer -Timestamp $at
        Add-UsageApiRequest /api/posts POST 201 -CustomerId $customer -Timestamp $at.AddMinutes(-5)
    }
    Add-UsageStorage 5368709120 24 -CustomerId $customer -Timestamp $now.AddHours(-2)
    Add-UsageBandwidth 524288000 Egress -CustomerId $customer -Timestamp $now.AddHours(-3)
    Add-UsageCompute 3600 @{ instance = 't3.medium' } -CustomerId $customer -Timestamp $now.AddHours(-4)
    Add-UsageDatabaseQuery SELECT 45 -CustomerId $customer -Timestamp $now.AddHours(-1)
    Add-UsageFunction sendEmail 120 256 -CustomerId $customer -Timestamp $now.AddHours(-1)
}
'@

# Runs one documented example in its own runspace against its own seeded store and returns the
# errors it wrote (none expected) and its output, through Out-String (so format views are
# exercised) wide enough that no table column is cut.
function Invoke-DocumentedExample {
    param([Parameter(Mandatory)] $Example)
    $directory = New-TestDirectory
    $saved = @{}
    $environment = @{
        NSELF_USAGE_STORE  = Join-Path $directory 'usage.db'
        NSELF_CUSTOMER_ID  = 'cus_demo'
        BILLING_EXPORT_DIR = Join-Path $directory 'exports'
        BILLING_CACHE_DIR  = Join-Path $directory 'cache'
        NSELF_USAGE_TIMEZONE = $null
        # An example that sets the alert delivery settings has them for itself only.
        USAGE_ALERT_TIMEOUT = $null; USAGE_ALERT_RETRY_SECONDS = $null; USAGE_ALERT_MAX_ATTEMPTS = $null
        BILLING_DB_HOST = $null; BILLING_DB_PORT = $null; BILLING_DB_NAME = $null; BILLING_DB_USER = $null; BILLING_DB_PASSWORD = $null
    }
    # Examples that use the bash library's PostgreSQL variables get a database of their own.
    $database = $null
    if ($Example.Code -match 'BILLING_DB_') {
        $database = New-TestPostgresDatabase
        $parts = @{}
        foreach ($pair in $database -split ';' | Where-Object { $_ }) { $key, $value = $pair -split '=', 2; $parts[$key] = $value }
        $environment.BILLING_DB_HOST = $parts.Host; $environment.BILLING_DB_PORT = $parts.Port; $environment.BILLING_DB_NAME = $parts.Database
        $environment.BILLING_DB_USER = $parts.Username; $environment.BILLING_DB_PASSWORD = $parts.Password
    }
    # Examples that send invoices, or register an e-mail alert action, send to a local SMTP server,
    # through the environment's override of the profile's server (which names the user's own, such
    # as smtp.example.com).
    $sink = $null
    $environment.BILLING_SMTP_SERVER = $null; $environment.BILLING_SMTP_PORT = $null
    if ($Example.Code -match 'Send-BillingInvoice|Register-UsageAlertAction[^\r\n]*-Email') {
        $sink = Start-SmtpSink -Directory (Join-Path $directory 'mail')
        $environment.BILLING_SMTP_SERVER = $sink.Host; $environment.BILLING_SMTP_PORT = "$($sink.Port)"
    }
    foreach ($key in $environment.Keys) { $saved[$key] = [Environment]::GetEnvironmentVariable($key); [Environment]::SetEnvironmentVariable($key, $environment[$key]) }
    $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
    $iss.ImportPSModule(@($script:ModuleManifest))
    $runspace = [runspacefactory]::CreateRunspace($iss)
    $runspace.Open()
    try {
        $seed = [powershell]::Create($runspace)
        [void]$seed.AddScript("Set-Location -LiteralPath '$directory'; $script:SeedScript")
        [void]$seed.Invoke()
        if ($seed.HadErrors) { throw "Seeding failed: $($seed.Streams.Error -join '; ')" }
        $ps = [powershell]::Create($runspace)
        [void]$ps.AddScript($Example.Code).AddCommand('Out-String').AddParameter('Width', 250)
        $text = -join $ps.Invoke()
        [pscustomobject]@{ Errors = @($ps.Streams.Error); Output = $text }
    }
    finally {
        $runspace.Dispose()
        if ($sink) { Stop-SmtpSink $sink }
        if ($database) { Remove-TestPostgresDatabase $database }
        foreach ($key in $saved.Keys) { [Environment]::SetEnvironmentVariable($key, $saved[$key]) }
        Remove-Item -LiteralPath $directory -Recurse -Force -ErrorAction SilentlyContinue
    }
}

# The dotnet host: this process when it is dotnet (pwsh as the local tool), else dotnet on PATH.
function Get-DotnetPath {
    $path = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($path) -eq 'dotnet') { return $path }
    (Get-Command dotnet -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
}

# A test tool of the Pester suites (tests/tools/<Name>: SmtpSink, WebhookSink), built into
# artifacts/<name, lower case with hyphens> (artifacts/smtp-sink, artifacts/webhook-sink): once, and
# again only when its sources or the repository's build settings change (a hash of them is kept beside
# the build). A lock file per tool keeps two runs from building it at once. Returns the path of <Name>.dll.
function Get-TestToolBuild {
    param([Parameter(Mandatory)] [ValidatePattern('^[A-Za-z][A-Za-z0-9]*$')] [string] $Name)
    $project = Join-Path $script:RepoRoot "tests/tools/$Name"
    if (-not (Test-Path -LiteralPath (Join-Path $project "$Name.csproj"))) { throw "There is no test tool tests/tools/$Name/$Name.csproj." }
    # Invariant: under tr-TR, ToLower() would turn the I of a name into a dotless ı.
    $folderName = ($Name -creplace '(?<=[a-z0-9])(?=[A-Z])', '-').ToLowerInvariant()
    $out = Join-Path $script:RepoRoot "artifacts/$folderName"
    $dll = Join-Path $out "$Name.dll"
    $stamp = Join-Path $out 'sources.sha256'
    $sources = @(Get-ChildItem -LiteralPath $project -File | Where-Object Extension -In '.cs', '.csproj') +
        @(Get-Item -LiteralPath (Join-Path $script:RepoRoot 'Directory.Build.props'), (Join-Path $script:RepoRoot 'Directory.Packages.props'))
    $hash = ($sources | Sort-Object Name | ForEach-Object { "$($_.Name) $((Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash)" }) -join "`n"
    New-Item -ItemType Directory -Path (Split-Path $out) -Force | Out-Null
    $lockPath = Join-Path (Split-Path $out) "$folderName.lock"
    $deadline = [DateTime]::UtcNow.AddMinutes(5)
    $lock = $null
    while (-not $lock) {
        try { $lock = [IO.File]::Open($lockPath, [IO.FileMode]::OpenOrCreate, [IO.FileAccess]::ReadWrite, [IO.FileShare]::None) }
        catch [IO.IOException] {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Another run has held $lockPath for 5 minutes (building tests/tools/$Name)." }
            Start-Sleep -Milliseconds 250
        }
    }
    try {
        if ((Test-Path -LiteralPath $dll) -and (Test-Path -LiteralPath $stamp) -and (Get-Content -LiteralPath $stamp -Raw) -eq $hash) { return $dll }
        if (Test-Path -LiteralPath $out) { Remove-Item -LiteralPath $out -Recurse -Force }
        # In the C locale, whatever the session culture of the run; no build servers left running after it.
        $saved = $env:LC_ALL
        $env:LC_ALL = 'C.UTF-8'
        try { $output = & (Get-DotnetPath) build (Join-Path $project "$Name.csproj") -c Release -o $out --nologo -v quiet --disable-build-servers 2>&1 }
        finally { $env:LC_ALL = $saved }
        if ($LASTEXITCODE -ne 0 -or -not (Test-Path -LiteralPath $dll)) { throw "Building the test tool tests/tools/$Name failed:`n$($output -join "`n")" }
        Set-Content -LiteralPath $stamp -Value $hash -NoNewline -Encoding utf8NoBOM
        $dll
    }
    finally { $lock.Dispose() }
}

# The SMTP sink of the Send-BillingInvoice tests (tests/tools/SmtpSink), built into artifacts/smtp-sink.
# Returns the path of SmtpSink.dll.
function Get-SmtpSinkBuild { Get-TestToolBuild -Name SmtpSink }

# Starts a test tool that listens on a loopback port (Get-TestToolBuild) with its arguments, and waits
# for the one line it prints once it listens, 'PORT <n>'. Returns its Process, its Port and ErrorOutput,
# the task that reads its error output (read all along, so that a chatty tool never blocks on a full pipe).
function Start-TestTool {
    param([Parameter(Mandatory)] [string] $Name, [string[]] $ArgumentList = @())
    $dll = Get-TestToolBuild -Name $Name
    $start = [Diagnostics.ProcessStartInfo]::new((Get-DotnetPath))
    foreach ($argument in @($dll) + $ArgumentList) { $start.ArgumentList.Add($argument) }
    $start.UseShellExecute = $false
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($start)
    $errors = $process.StandardError.ReadToEndAsync()
    $line = $process.StandardOutput.ReadLineAsync()
    $ready = $line.Wait([TimeSpan]::FromSeconds(30))
    if (-not $ready -or "$($line.Result)" -notmatch '^PORT (\d+)$') {
        if (-not $process.HasExited) { $process.Kill($true) }
        $null = $process.WaitForExit(5000)
        $log = $errors.Wait(5000) ? $errors.Result : ''
        throw "The test tool $Name did not start: $($ready ? "it printed '$($line.Result)'" : 'no PORT line in 30 s'); its error output:`n$log"
    }
    $port = [int]$Matches[1]
    $null = $process.StandardOutput.ReadToEndAsync()
    [pscustomobject]@{ Process = $process; Port = $port; ErrorOutput = $errors }
}

# Stops a tool from Start-TestTool (a sink): closes its standard input (it stops on that), waits, and
# kills it if it does not end in 10 s. What it wrote to its error output is left in the sink's Log.
function Stop-TestTool($Sink) {
    if (-not $Sink) { return }
    $process = $Sink.Process
    if (-not $process.HasExited) {
        try { $process.StandardInput.Close() } catch [IO.IOException] { }
        if (-not $process.WaitForExit(10000)) { $process.Kill($true); $null = $process.WaitForExit(5000) }
    }
    if ($Sink.ErrorOutput.Wait(5000)) { $Sink.Log = $Sink.ErrorOutput.Result }
    $process.Dispose()
}

# Starts the SMTP sink: a real SMTP server on 127.0.0.1 and a free port that writes each message it
# accepts to Directory (<n>.eml, <n>-<attachment>, and <n>.json last; see Get-SmtpSinkMessage).
# -Login 'user:password' requires that login (AUTH offered without TLS); -RefuseRecipient answers
# 550 at RCPT TO for those addresses; -RefuseMessages answers 554 after DATA. Returns an object with
# Host, Port, Directory and Process; stop it with Stop-SmtpSink.
function Start-SmtpSink {
    param([Parameter(Mandatory)] [string] $Directory, [string] $Login, [string[]] $RefuseRecipient = @(), [switch] $RefuseMessages)
    $folder = (New-Item -ItemType Directory -Path $Directory -Force).FullName
    $arguments = @('--dir', $folder)
    if ($Login) { $arguments += '--login', $Login }
    foreach ($address in $RefuseRecipient) { $arguments += '--refuse-recipient', $address }
    if ($RefuseMessages) { $arguments += '--refuse-messages' }
    $tool = Start-TestTool -Name SmtpSink -ArgumentList $arguments
    [pscustomobject]@{ PSTypeName = 'SmtpSink'; Host = '127.0.0.1'; Port = $tool.Port; Directory = $folder; Process = $tool.Process; ErrorOutput = $tool.ErrorOutput; Log = $null }
}

# Stops a sink from Start-SmtpSink (see Stop-TestTool); what it wrote to its error output is left in its Log.
function Stop-SmtpSink {
    param([Parameter(Mandatory, ValueFromPipeline)] [AllowNull()] $Sink)
    process { Stop-TestTool $Sink }
}

# The messages a sink accepted, oldest first: each <n>.json it wrote, parsed. Properties:
# Number, EnvelopeFrom, EnvelopeTo, AuthenticatedUser, Subject, From (the address), FromName, To,
# Cc, MessageId, Date, HasHtml, HtmlBody, TextBody, Attachments (FileName, ContentType, Path), Eml.
# -Count waits (up to 10 s) until at least that many are there.
function Get-SmtpSinkMessage {
    param([Parameter(Mandatory)] $Sink, [int] $Count = 0)
    foreach ($file in (Get-SinkRecordFile $Sink.Directory $Count)) { Get-Content -LiteralPath $file.FullName -Raw -Encoding utf8 | ConvertFrom-Json }
}

# The <n>.json records of a sink's folder, oldest first, once there are Count of them (or after 10 s).
function Get-SinkRecordFile([string] $Directory, [int] $Count) {
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while ($true) {
        $files = @(Get-ChildItem -LiteralPath $Directory -Filter '*.json' -File | Where-Object BaseName -Match '^\d+$' | Sort-Object { [int]$_.BaseName })
        if ($files.Count -ge $Count -or [DateTime]::UtcNow -gt $deadline) { break }
        Start-Sleep -Milliseconds 100
    }
    $files
}

# Starts the webhook sink (tests/tools/WebhookSink): an HTTP endpoint on 127.0.0.1 that writes each
# request to Directory as <n>.json before it answers (see Get-WebhookSinkRequest), and answers every
# request -Status (200) with 'ok'. -Stall n leaves the first n requests unanswered, their connections
# open until the sink stops: an endpoint that hangs. -Port takes a given port: a sink started again on
# the port and folder of one stopped is an endpoint that was down and is back (its numbering goes on).
# Send to Url (http://127.0.0.1:<port>/hook; any path is taken): HttpListener answers 404 to another
# Host header (localhost), and keeps no record of it. Returns an object with Host, Port, Url,
# Directory and Process; stop it with Stop-WebhookSink.
function Start-WebhookSink {
    param(
        [Parameter(Mandatory)] [string] $Directory,
        [ValidateRange(0, 65535)] [int] $Port = 0,
        [ValidateRange(200, 599)] [int] $Status = 200,
        [ValidateRange(0, [int]::MaxValue)] [int] $Stall = 0)
    $folder = (New-Item -ItemType Directory -Path $Directory -Force).FullName
    $tool = Start-TestTool -Name WebhookSink -ArgumentList @('--dir', $folder, '--port', "$Port", '--status', "$Status", '--stall', "$Stall")
    [pscustomobject]@{
        PSTypeName = 'WebhookSink'; Host = '127.0.0.1'; Port = $tool.Port; Url = "http://127.0.0.1:$($tool.Port)/hook"
        Directory = $folder; Process = $tool.Process; ErrorOutput = $tool.ErrorOutput; Log = $null
    }
}

# Stops a sink from Start-WebhookSink (see Stop-TestTool); stalled connections are dropped unanswered.
# What it wrote to its error output is left in its Log.
function Stop-WebhookSink {
    param([Parameter(Mandatory, ValueFromPipeline)] [AllowNull()] $Sink)
    process { Stop-TestTool $Sink }
}

# The requests a webhook sink received, oldest first (the records of a sink started before it on the
# same folder included): each <n>.json, parsed. Properties: Number, Method, Path (path and query, as
# sent), Headers (lower-case name -> value; repeated headers joined with ','), Body (decoded as UTF-8),
# ReceivedAt (ISO 8601 UTC). Strings stay strings (-DateKind String): a body or header that looks like
# a date is not turned into one, so a signature checks against what was sent.
# -Count waits (up to 10 s) until at least that many are there.
function Get-WebhookSinkRequest {
    param([Parameter(Mandatory)] $Sink, [int] $Count = 0)
    foreach ($file in (Get-SinkRecordFile $Sink.Directory $Count)) { Get-Content -LiteralPath $file.FullName -Raw -Encoding utf8 | ConvertFrom-Json -DateKind String }
}

# Whether a request from Get-WebhookSinkRequest carries a Standard Webhooks signature
# (https://www.standardwebhooks.com) made with Secret: webhook-signature holds one or more
# space-separated 'v1,<base64 of HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>'. The key
# of a 'whsec_' secret is the base64 after the prefix; of any other secret, its UTF-8 bytes. The
# timestamp's age is not checked: a test that cares compares it with ReceivedAt.
function Test-WebhookSignature {
    param([Parameter(Mandatory)] $Request, [Parameter(Mandatory)] [string] $Secret)
    $headers = $Request.Headers
    if (-not $headers) { return $false }
    $id, $timestamp, $signatures = foreach ($name in 'webhook-id', 'webhook-timestamp', 'webhook-signature') {
        "$($headers -is [Collections.IDictionary] ? $headers[$name] : $headers.PSObject.Properties[$name].Value)"
    }
    if (-not $id -or -not $timestamp -or -not $signatures) { return $false }
    $key = $Secret.StartsWith('whsec_', [StringComparison]::Ordinal) ? [Convert]::FromBase64String($Secret.Substring(6)) : [Text.Encoding]::UTF8.GetBytes($Secret)
    $signed = [Text.Encoding]::UTF8.GetBytes("$id.$timestamp.$($Request.Body)")
    $expected = 'v1,' + [Convert]::ToBase64String([Security.Cryptography.HMACSHA256]::HashData($key, $signed))
    # -ceq: base64 is case-sensitive.
    [bool]@($signatures -split ' ' | Where-Object { $_ -ceq $expected }).Count
}

# The error records a command writes, and the one it throws when an error ends it (a bad
# parameter, -ErrorAction Stop); its output is dropped. Pester runs tests with
# ErrorActionPreference Stop; it is Continue in the caller's scope (the session state the command's
# script block belongs to) while the command runs, so a second error is counted rather than lost
# behind the first and a command that goes on after an error is seen to go on.
function Get-ErrorRecord {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [scriptblock] $Command)
    Invoke-Collecting $Command $PSCmdlet.SessionState
}

function Invoke-Collecting([scriptblock] $Command, [System.Management.Automation.SessionState] $Caller) {
    $saved = $Caller.PSVariable.GetValue('ErrorActionPreference')
    $Caller.PSVariable.Set('ErrorActionPreference', 'Continue')
    try {
        @(try { & $Command 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } } catch { $_ })
    }
    finally { $Caller.PSVariable.Set('ErrorActionPreference', $saved) }
}

# A message with control characters and lone surrogates as \uXXXX, so a failure message stays valid XML.
function Show-Escaped([string] $Text) {
    [regex]::Replace($Text, '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
}

# The one error of a command's records, asserted to be one.
function Select-OneError([object[]] $Errors) {
    $Errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $(Show-Escaped $_.Exception.Message)" } | Should -HaveCount 1 -Because 'one clear error'
    $Errors[0]
}

# Runs a command expecting exactly one error record (written or thrown); returns it.
function Get-SingleError {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [scriptblock] $Command)
    Select-OneError (Invoke-Collecting $Command $PSCmdlet.SessionState)
}

# The error id of the one error a command gives (without the command's name).
function Get-Failure {
    [CmdletBinding()]
    param([Parameter(Mandatory)] [scriptblock] $Command)
    (Select-OneError (Invoke-Collecting $Command $PSCmdlet.SessionState)).FullyQualifiedErrorId -replace ',.*$', ''
}

Export-ModuleMember -Function *
