# The input-form table (issue 14): every numeric and money parameter of every command, given as
# [int], [double], [decimal], invariant text ('0.75'), decimal-comma text ('0,75') and as a piped
# property, each row with its expected outcome: the value read back from the store, or the error
# id (and then nothing written). Rows are generated from the data table below, not written out.
# Runs on SQLite in the session's culture and in de-DE (whose decimal separator is the comma),
# and on PostgreSQL for the money and quantity rows that reach its columns.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    # Throws in CI without a server: the PostgreSQL run must not be skipped there.
    $postgres = Test-PostgresAvailable

    # Kind decides the values and the refusal:
    #   Money     fractional, text by the plain rule, refused as InvalidPrice
    #   Quantity  fractional, refused as InvalidQuantity
    #   Whole     a whole-number quantity (bytes, a limit, megabytes), refused as InvalidQuantity
    #   Count     days, a port, a size, a sort order, a status code, an id: int and long
    #             parameters whose refusal is PowerShell's binding error ParameterArgumentTransformationError
    #   Seconds   -FlushInterval: seconds (or a TimeSpan), refused as InvalidArgument
    # Read names how the outcome is observed: a stored value read back (by the Read block of the
    # Describe below), the command's own output, only that the command ran ('Accepted'), or the id
    # a lookup of nothing names ('NotFoundId': the one error is the command's own not-found, whose
    # target is the value as it was read).
    # Pipe is the reason a parameter takes no piped property, or $null when it does.
    $parameters = @(
        @{ Command = 'Register-UsageService'; Parameter = 'Price'; Kind = 'Money'; Read = 'ServicePrice'; Pipe = $null; PostgreSQL = $true }
        @{ Command = 'Set-BillingPlan'; Parameter = 'PriceMonthly'; Kind = 'Money'; Read = 'PlanMonthly'; Pipe = $null; PostgreSQL = $true }
        @{ Command = 'Set-BillingPlan'; Parameter = 'PriceYearly'; Kind = 'Money'; Read = 'PlanYearly'; Pipe = $null }
        @{ Command = 'Set-BillingPlan'; Parameter = 'SortOrder'; Kind = 'Count'; Read = 'PlanSortOrder'; Pipe = $null }
        @{ Command = 'Set-UsageQuota'; Parameter = 'OveragePrice'; Kind = 'Money'; Read = 'QuotaOveragePrice'; Pipe = $null; PostgreSQL = $true }
        @{ Command = 'Set-UsageQuota'; Parameter = 'PackagePrice'; Kind = 'Money'; Read = 'QuotaPackagePrice'; Pipe = $null }
        @{ Command = 'Set-UsageQuota'; Parameter = 'PackageSize'; Kind = 'Quantity'; Read = 'QuotaPackageSize'; Pipe = $null }
        @{ Command = 'Set-UsageQuota'; Parameter = 'Limit'; Kind = 'Whole'; Read = 'QuotaLimit'; Pipe = $null; PostgreSQL = $true }
        # Tier values are hashtable entries, not parameters; their 'piped property' form is a
        # tier written as an object (as Import-Csv or ConvertFrom-Json make), piped in as -Tier.
        @{ Command = 'Set-UsageQuota'; Parameter = 'Tier.UpTo'; Kind = 'Quantity'; Read = 'TierUpTo'; Pipe = $null }
        @{ Command = 'Set-UsageQuota'; Parameter = 'Tier.UnitPrice'; Kind = 'Money'; Read = 'TierUnitPrice'; Pipe = $null; PostgreSQL = $true }
        @{ Command = 'Set-UsageQuota'; Parameter = 'Tier.FlatFee'; Kind = 'Money'; Read = 'TierFlatFee'; Pipe = $null }
        @{ Command = 'Add-UsageRecord'; Parameter = 'Quantity'; Kind = 'Quantity'; Read = 'RecordQuantity'; Pipe = $null; PostgreSQL = $true }
        @{ Command = 'Add-UsageStorage'; Parameter = 'Bytes'; Kind = 'Whole'; Read = 'MetadataBytes'; Pipe = $null }
        @{ Command = 'Add-UsageStorage'; Parameter = 'Hours'; Kind = 'Quantity'; Read = 'RecordQuantity'; Pipe = $null; PostgreSQL = $true }
        @{ Command = 'Add-UsageBandwidth'; Parameter = 'Bytes'; Kind = 'Whole'; Read = 'MetadataBytes'; Pipe = $null }
        @{ Command = 'Add-UsageCompute'; Parameter = 'Seconds'; Kind = 'Quantity'; Read = 'MetadataSeconds'; Pipe = $null }
        @{ Command = 'Add-UsageDatabaseQuery'; Parameter = 'DurationMs'; Kind = 'Quantity'; Read = 'MetadataDuration'; Pipe = $null }
        @{ Command = 'Add-UsageFunction'; Parameter = 'DurationMs'; Kind = 'Quantity'; Read = 'MetadataDuration'; Pipe = $null }
        @{ Command = 'Add-UsageFunction'; Parameter = 'MemoryMB'; Kind = 'Whole'; Read = 'MetadataMemory'; Pipe = $null }
        @{ Command = 'Add-UsageApiRequest'; Parameter = 'StatusCode'; Kind = 'Count'; Read = 'MetadataStatus'; Pipe = $null }
        @{ Command = 'Test-UsageQuota'; Parameter = 'Quantity'; Kind = 'Quantity'; Read = 'Output'; Pipe = 'Test-UsageQuota takes no pipeline input' }
        # Issue 19: money paid or granted is refused as InvalidAmount (a grant's amount is in whole cents).
        @{ Command = 'Add-BillingCredit'; Parameter = 'Amount'; Kind = 'Amount'; Read = 'GrantAmount'; Pipe = $null; PostgreSQL = $true }
        @{ Command = 'Start-UsageBatch'; Parameter = 'Size'; Kind = 'Count'; Read = 'BatchSize'; Pipe = 'Start-UsageBatch takes no pipeline input' }
        @{ Command = 'Start-UsageBatch'; Parameter = 'FlushInterval'; Kind = 'Seconds'; Read = 'BatchInterval'; Pipe = 'Start-UsageBatch takes no pipeline input' }
        @{ Command = 'Get-UsageAlert'; Parameter = 'Days'; Kind = 'Count'; Read = 'Accepted'; Pipe = 'Get-UsageAlert takes no pipeline input' }
        @{ Command = 'Get-UsagePeak'; Parameter = 'Days'; Kind = 'Count'; Read = 'Accepted'; Pipe = 'Get-UsagePeak takes no pipeline input' }
        @{ Command = 'Get-UsagePeak'; Parameter = 'Top'; Kind = 'Count'; Read = 'Accepted'; Pipe = 'Get-UsagePeak takes no pipeline input' }
        @{ Command = 'Get-UsageStatistic'; Parameter = 'Days'; Kind = 'Count'; Read = 'Accepted'; Pipe = 'Get-UsageStatistic takes no pipeline input' }
        @{ Command = 'Get-UsageTrend'; Parameter = 'Days'; Kind = 'Count'; Read = 'Accepted'; Pipe = 'Get-UsageTrend takes no pipeline input' }
        @{ Command = 'Move-UsageRecord'; Parameter = 'OlderThanDays'; Kind = 'Count'; Read = 'Accepted'; Pipe = 'Move-UsageRecord takes no pipeline input' }
        # Issue 20: ids of alerts and deliveries ([long]); '0,75' must not look up delivery 75, nor 2.5 delivery 2.
        @{ Command = 'Get-UsageAlertDelivery'; Parameter = 'AlertId'; Kind = 'Count'; Read = 'Accepted'; Pipe = $null }
        @{ Command = 'Submit-UsageAlertDelivery'; Parameter = 'DeliveryId'; Kind = 'Count'; Read = 'NotFoundId'; NotFound = 'AlertDeliveryNotFound'; Pipe = $null }
        # A credit grant's id, the same way: '0,75' must not remove grant 75.
        @{ Command = 'Remove-BillingCredit'; Parameter = 'GrantId'; Kind = 'Count'; Read = 'NotFoundId'; NotFound = 'CreditGrantNotFound'; Pipe = $null }
        # Piped forms left out: Connect-UsageStore connects before it reads any input, so with
        # nothing listening a piped object is never bound at all.
        @{ Command = 'Connect-UsageStore'; Parameter = 'Port'; Kind = 'Count'; Read = 'Accepted'; Pipe = 'Connect-UsageStore takes no pipeline input'; NoPipedForm = $true }
    )

    # The six forms (and the comma form piped, the Import-Csv case), per kind: the value given
    # and what must come of it. A decimal Expected is the value read back; a string is an error id.
    $refusal = @{ Money = 'InvalidPrice'; Amount = 'InvalidAmount'; Quantity = 'InvalidQuantity'; Whole = 'InvalidQuantity'; Count = 'ParameterArgumentTransformationError'; Seconds = 'InvalidArgument' }
    function Get-Form([string] $Kind) {
        $whole = $Kind -in 'Whole', 'Count'
        # Whole numbers large enough to be told from their neighbours; 404 is also a status code.
        $n = if ($Kind -eq 'Count') { 404 } else { 2048 }
        $refused = $refusal[$Kind]
        if ($whole) {
            @{ Form = '[int]'; Value = [int]$n; Expected = [decimal]$n }
            @{ Form = '[double]'; Value = [double]$n; Expected = [decimal]$n }
            @{ Form = '[decimal]'; Value = [decimal]$n; Expected = [decimal]$n }
            @{ Form = 'invariant text'; Value = "$n"; Expected = [decimal]$n }
            @{ Form = 'comma text'; Value = '0,75'; Expected = $refused }
            @{ Form = 'piped property'; Value = "$n"; Expected = [decimal]$n; Piped = $true }
            @{ Form = 'piped comma text'; Value = '2,048'; Expected = $refused; Piped = $true }
            @{ Form = 'fractional [double]'; Value = [double]2.5; Expected = $refused }
        }
        else {
            @{ Form = '[int]'; Value = [int]2; Expected = [decimal]2 }
            @{ Form = '[double]'; Value = [double]0.75; Expected = [decimal]'0.75' }
            @{ Form = '[decimal]'; Value = [decimal]'0.75'; Expected = [decimal]'0.75' }
            @{ Form = 'invariant text'; Value = '0.75'; Expected = [decimal]'0.75' }
            @{ Form = 'comma text'; Value = '0,75'; Expected = $refused }
            @{ Form = 'piped property'; Value = '0.75'; Expected = [decimal]'0.75'; Piped = $true }
            @{ Form = 'piped comma text'; Value = '0,75'; Expected = $refused; Piped = $true }
            # A double that is not exactly 0.1: read to its 15 significant digits, 0.1.
            @{ Form = '[double] 0.1'; Value = [double]0.1; Expected = [decimal]'0.1' }
        }
    }

    $contexts = @(
        @{ Backend = 'SQLite'; Culture = ''; Available = $true; All = $true }
        @{ Backend = 'SQLite'; Culture = 'de-DE'; Available = $true; All = $true }
        @{ Backend = 'PostgreSQL'; Culture = ''; Available = $postgres; All = $false }
    )
    $index = 0   # across contexts too, so every row names its own service, plan and event
    foreach ($context in $contexts) {
        $context.Rows = @(foreach ($p in $parameters) {
                if (-not $context.All -and -not $p.PostgreSQL) { continue }
                foreach ($form in Get-Form $p.Kind) {
                    if ($form.Piped -and $p.NoPipedForm) { continue }
                    $index++
                    $row = $p + $form
                    $row.Index = $index
                    $row.Outcome = if ($form.Expected -is [string]) { "refused with $($form.Expected)" }
                    elseif ($p.Read -eq 'Accepted') { 'accepted' }
                    elseif ($p.Read -eq 'NotFoundId') { "looked up as $($form.Expected)" }
                    else { "reads back $($form.Expected)" }
                    if ($form.Piped -and $p.Pipe) {
                        $row.Expected = 'InputObjectNotBound'
                        $row.Outcome = "not pipeable ($($p.Pipe)): InputObjectNotBound"
                    }
                    $row
                }
            })
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $env:NSELF_CUSTOMER_ID = 'cus_forms'

    # How each command is called with the value under test in place: the other arguments it
    # needs, and where the value goes (a parameter, or an entry of the first tier).
    function Get-Call([hashtable] $Row, $Value) {
        $n = "forms$($Row.Index)"
        $rest = switch ($Row.Command) {
            'Register-UsageService' { @{ Name = $n; Unit = 'units' }; break }
            'Set-BillingPlan' { @{ Name = $n }; break }
            'Set-UsageQuota' {
                $base = @{ Plan = $n; Service = 'api' }
                if ($Row.Parameter -ne 'Limit') { $base.Limit = 10 }
                if ($Row.Parameter -eq 'PackageSize') { $base += @{ PricingModel = 'Package'; PackagePrice = 1 } }
                if ($Row.Parameter -eq 'PackagePrice') { $base += @{ PricingModel = 'Package'; PackageSize = 100 } }
                if ($Row.Parameter -like 'Tier.*') { $base.PricingModel = 'Graduated' }
                $base
                break
            }
            'Add-UsageRecord' { @{ Service = 'api'; EventId = $n }; break }
            'Add-UsageStorage' { if ($Row.Parameter -eq 'Bytes') { @{ EventId = $n } } else { @{ Bytes = 1073741824; EventId = $n } }; break }
            'Add-UsageFunction' { @{ Name = 'resize'; EventId = $n }; break }
            'Add-UsageApiRequest' { @{ Endpoint = '/forms'; EventId = $n }; break }
            'Test-UsageQuota' { @{ Service = 'api'; Quiet = $true }; break }
            'Add-BillingCredit' { @{ Currency = 'USD'; Description = $n }; break }
            'Move-UsageRecord' { @{ WhatIf = $true }; break }
            'Remove-BillingCredit' { @{ Confirm = $false }; break }
            'Connect-UsageStore' { @{ Server = '127.0.0.1'; Database = 'forms' }; break }
            { $_ -like 'Add-Usage*' } { @{ EventId = $n } }
            default { @{} }
        }
        $given = switch -Wildcard ($Row.Parameter) {
            'Tier.*' {
                # The value as the first tier's entry; piped, the tier is an object, not a hashtable.
                $first = @{ UpTo = 5000; UnitPrice = 1 }
                $first[$Row.Parameter.Substring(5)] = $Value
                if ($Row.Piped) { $first = [pscustomobject]$first }
                @{ Tier = @($first, @{ UnitPrice = 0.5 }) }
            }
            default { @{ $Row.Parameter = $Value } }
        }
        @{ Rest = $rest; Given = $given; Name = $n }
    }

    # The value the row's command stored, read back through the module's own reads.
    function Read-Outcome([hashtable] $Row, [string] $Name, $Output) {
        $record = { Get-UsageRecord | Where-Object EventId -EQ $Name | Select-Object -First 1 }
        $quota = { Get-UsageQuota -Plan $Name | Where-Object Service -EQ 'api' }
        switch ($Row.Read) {
            'ServicePrice' { (Get-UsageService | Where-Object Name -EQ $Name).DisplayPrice }
            'PlanMonthly' { (Get-BillingPlan | Where-Object Name -EQ $Name).PriceMonthly }
            'PlanYearly' { (Get-BillingPlan | Where-Object Name -EQ $Name).PriceYearly }
            'PlanSortOrder' { (Get-BillingPlan | Where-Object Name -EQ $Name).SortOrder }
            'QuotaOveragePrice' { (& $quota).OveragePrice }
            'QuotaPackagePrice' { (& $quota).PackagePrice }
            'QuotaPackageSize' { (& $quota).PackageSize }
            'QuotaLimit' { (& $quota).Limit }
            'TierUpTo' { (& $quota).Tiers[0].UpTo }
            'TierUnitPrice' { (& $quota).Tiers[0].UnitPrice }
            'TierFlatFee' { (& $quota).Tiers[0].FlatFee }
            'RecordQuantity' { (& $record).Quantity }
            'MetadataBytes' { (& $record).MetadataObject.bytes }
            'MetadataSeconds' { (& $record).MetadataObject.seconds }
            'MetadataDuration' { (& $record).MetadataObject.duration_ms }
            'MetadataMemory' { (& $record).MetadataObject.memory_mb }
            'MetadataStatus' { (& $record).MetadataObject.status }
            'BatchSize' { (Get-UsageBatch).Size }
            'BatchInterval' { [decimal](Get-UsageBatch).FlushInterval.TotalSeconds }
            'Output' { if ($Output -eq $true) { $Row.Expected } else { "output: $Output" } }
            'GrantAmount' { ((Get-BillingBalance -Currency USD).Grants | Where-Object Description -EQ $Name).Amount }
            default { $Row.Expected }
        }
    }

    # Everything a refused value could have changed, as text.
    function Get-FormState {
        @(
            Get-UsageRecord -AllCustomers | Sort-Object EventId | ForEach-Object { "event $($_.EventId) $($_.Quantity) $($_.Metadata)" }
            Get-UsageService | Sort-Object Name | ForEach-Object { "service $($_.Name) $($_.DisplayPrice)" }
            Get-BillingPlan | Sort-Object Name | ForEach-Object {
                "plan $($_.Name) $($_.PriceMonthly) $($_.PriceYearly) $($_.SortOrder)"
                Get-UsageQuota -Plan $_.Name | ForEach-Object { "quota $($_.Service) $($_.Limit) $($_.OveragePrice) $($_.PackageSize) $($_.PackagePrice) $(@($_.Tiers | ForEach-Object { "$($_.UpTo)/$($_.UnitPrice)/$($_.FlatFee)" }) -join ',')" }
            }
            $batch = Get-UsageBatch
            "batch $($batch.Active) $($batch.Size) $($batch.FlushInterval)"
            "alerts $(@(Get-UsageAlert -Days 1).Count)"
            "grants $(@((Get-BillingBalance).Grants).Count)"
        ) -join "`n"
    }
}

AfterAll {
    Remove-InProcessFixture $work $saved
}

Describe 'Numbers as people type them, on <Backend> <Culture>' -ForEach $contexts {
    BeforeAll {
        $database = $null
        $culture = [System.Globalization.CultureInfo]::CurrentCulture
        if ($Available) {
            $database = Use-SessionStore $Backend (Join-Path $work "forms-$Backend-$Culture.db")
            Add-UsageApiRequest /baseline -EventId baseline
        }
    }

    AfterAll {
        if ($Available) { Stop-UsageBatch -ErrorAction SilentlyContinue | Out-Null }
        Remove-SessionStore $database
    }

    BeforeEach {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
        if ($Culture) { [System.Globalization.CultureInfo]::CurrentCulture = $Culture }
    }

    AfterEach {
        [System.Globalization.CultureInfo]::CurrentCulture = $culture
        if ($Available -and (Get-UsageBatch).Active) { Stop-UsageBatch | Out-Null }
    }

    It '<Command> -<Parameter> as <Form> <Value>: <Outcome>' -ForEach $Rows {
        $call = Get-Call $_ $Value
        $rest = $call.Rest
        $given = $call.Given
        if ($Command -eq 'Set-UsageQuota') { Set-BillingPlan -Name $call.Name -PriceMonthly 0 }
        $before = if ($Expected -is [string]) { Get-FormState }

        $ErrorActionPreference = 'Continue'
        $output = [System.Collections.Generic.List[object]]::new()
        $errors = [System.Collections.Generic.List[object]]::new()
        try {
            $result = if ($Piped) { [pscustomobject]$given | & $Command @rest 2>&1 } else { & $Command @rest @given 2>&1 }
            foreach ($item in $result) { if ($item -is [System.Management.Automation.ErrorRecord]) { $errors.Add($item) } else { $output.Add($item) } }
        }
        catch { $errors.Add($_) }

        if ($Expected -eq 'InputObjectNotBound') {
            # The command runs without the object (its begin and end still do what they do with
            # their defaults), and the object is refused by name.
            $errors.FullyQualifiedErrorId | Should -Contain "InputObjectNotBound,$((Get-Command $Command).ImplementingType.FullName)"
            if ($Command -eq 'Connect-UsageStore') { $env:NSELF_USAGE_STORE = if ($database) { $database } else { Join-Path $work "forms-$Backend-$Culture.db" } }
        }
        elseif ($Expected -is [string]) {
            $errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" } | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike "$Expected,*"
            if ($Expected -like 'Invalid*') {
                "$($errors[0].CategoryInfo.Category)" | Should -Be 'InvalidArgument'
                "$($errors[0].TargetObject)" | Should -Be ([string]::Format([cultureinfo]::InvariantCulture, '{0}', $Value))   # names the value
            }
            if ($Value -is [string] -and $Expected -ne 'InputObjectNotBound') { $errors[0].Exception.Message | Should -BeLike "*$Value*" }
            Get-FormState | Should -BeExactly $before   # a refused value writes nothing
        }
        elseif ($Read -eq 'Accepted' -and $Command -eq 'Connect-UsageStore') {
            # Nothing listens on this port: binding took the value, and connecting is what failed.
            $errors.FullyQualifiedErrorId | Should -Be 'StoreUnavailable,NSelf.Usage.Commands.ConnectUsageStoreCommand'
            $env:NSELF_USAGE_STORE = if ($database) { $database } else { Join-Path $work "forms-$Backend-$Culture.db" }
            Disconnect-UsageStore -ErrorAction SilentlyContinue
        }
        elseif ($Read -eq 'NotFoundId') {
            # The store has no such id: the command's own not-found error, naming the id it read.
            $errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" } | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -BeLike "$NotFound,*"
            [decimal]$errors[0].TargetObject | Should -Be $Expected
        }
        else {
            $errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" } | Should -BeNullOrEmpty
            $actual = Read-Outcome $_ $call.Name $output
            [decimal]$actual | Should -Be $Expected
        }
    }
}
