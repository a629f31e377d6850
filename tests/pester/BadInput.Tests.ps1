# Hostile input to every writing command: refused with one error record whose id is one of the
# module's stable ErrorIds and which leaves the store exactly as it was, or stored verbatim and
# harmlessly where it is legal. Runs against SQLite, and against PostgreSQL when the test server
# is there ($env:NSELF_TEST_POSTGRES, started by build.ps1 Test or eng/TestPostgres.ps1 -Start).
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    # Throws in CI without a server: the PostgreSQL run must not be skipped there.
    $backends = Get-TestBackend -WithAvailability
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture

    # The ids scripts may match on (src/NSelf.Usage.Model/UsageException.cs).
    $stableIds = @([NSelf.Usage.ErrorIds].GetFields() | ForEach-Object { $_.GetRawConstantValue() })

    # The error records a command writes (none expected), as "id: message"; its output is dropped.
    function Get-Errors([scriptblock] $Command) {
        Get-ErrorRecord $Command | ForEach-Object { "$($_.FullyQualifiedErrorId): $(Show $_.Exception.Message)" }
    }

    function Get-EventCount { @(Get-UsageRecord -AllCustomers).Count }

    Set-Alias Show Show-Escaped

    # Everything the writing commands can change, as text: events, customers, services, plans,
    # quotas, subscriptions, the session configuration and batch mode.
    function Get-StoreState {
        $lines = [System.Collections.Generic.List[string]]::new()
        Get-UsageRecord -AllCustomers | Sort-Object CustomerId, EventId | ForEach-Object {
            $lines.Add("event $($_.CustomerId) $($_.EventId) $($_.Service) $($_.Quantity) $($_.Unit) $($_.Timestamp.UtcTicks) $($_.Metadata)")
        }
        Get-BillingCustomer -IncludeRemoved | Sort-Object CustomerId | ForEach-Object {
            $lines.Add("customer $($_.CustomerId) $($_.Name) $($_.Email) $($_.Company) $($_.ProjectName) $($_.Metadata) $($_.DeletedAt)")
        }
        Get-UsageService | Sort-Object Name | ForEach-Object { $lines.Add("service $($_.Name) $($_.Unit) $($_.DisplayPrice) $($_.Currency) $($_.Description)") }
        foreach ($plan in Get-BillingPlan | Sort-Object Name) {
            $lines.Add("plan $($plan.Name) $($plan.DisplayName) $($plan.Description) $($plan.PriceMonthly) $($plan.PriceYearly) $($plan.Currency) $($plan.IsActive)")
            Get-UsageQuota -Plan $plan.Name | Sort-Object Service | ForEach-Object { $lines.Add("quota $($plan.Name) $(Format-Quota $_)") }
        }
        Get-UsageQuota -CustomerId cus_quota | Sort-Object Service | ForEach-Object { $lines.Add("quota cus_quota $(Format-Quota $_)") }
        Get-BillingSubscription -AllCustomers -IncludeEnded | Sort-Object SubscriptionId | ForEach-Object {
            $lines.Add("subscription $($_.SubscriptionId) $($_.CustomerId) $($_.Plan) $($_.Status) $($_.Anchor.UtcTicks)")
        }
        $configuration = Get-UsageConfiguration
        $lines.Add("configuration $($configuration.CustomerId) $($configuration.CustomerIdSource) $($configuration.TimeZone)")
        $batch = Get-UsageBatch
        $lines.Add("batch $($batch.Active) $($batch.Spooled)")
        Show ($lines -join "`n")
    }

    function Format-Quota($q) {
        "$($q.Service) $($q.Limit) $($q.LimitType) $($q.Enforcement) $($q.PricingModel) $($q.OveragePrice) $(@($q.Tiers | ForEach-Object { "$($_.UpTo)/$($_.UnitPrice)" }) -join ',')"
    }

    # The refusal every bad input must give: one error with a stable id and a sensible category,
    # naming the input, and nothing changed anywhere.
    function Assert-Refused {
        param([scriptblock] $Command, [string] $ErrorId, [string] $Category = 'InvalidArgument', [switch] $EmptyTarget)
        $ErrorId | Should -BeIn $stableIds
        $events = Get-EventCount
        $before = Get-StoreState
        $err = Get-SingleError $Command
        $err.FullyQualifiedErrorId | Should -BeLike "$ErrorId,NSelf.Usage.Commands.*"
        "$($err.CategoryInfo.Category)" | Should -Be $Category
        if (-not $EmptyTarget) { $err.TargetObject | Should -Not -BeNullOrEmpty }   # the error names the input
        Get-EventCount | Should -Be $events
        Get-StoreState | Should -BeExactly $before
    }

    # The one record of a customer with an event id, as read back from the store.
    function Read-Record([string] $EventId, [string] $CustomerId = 'cus_bad') {
        $records = @(Get-UsageRecord -CustomerId $CustomerId | Where-Object { $_.EventId -ceq $EventId })
        $records | Should -HaveCount 1
        $records[0]
    }

    # JSON object text of exactly $Bytes UTF-8 bytes: {"k":"<filler>"}.
    function New-MetadataJson([int] $Bytes, [string] $Filler = 'a') {
        $fillerBytes = [Text.Encoding]::UTF8.GetByteCount($Filler)
        $count = [Math]::Floor(($Bytes - 8) / $fillerBytes)
        $json = '{"k":"' + ($Filler * $count) + ('a' * ($Bytes - 8 - $count * $fillerBytes)) + '"}'
        [Text.Encoding]::UTF8.GetByteCount($json) | Should -Be $Bytes
        $json
    }

    # A JSON object nested $Levels deep: {"a":{"a":{}}} is 3.
    function New-NestedJson([int] $Levels) { ('{"a":' * ($Levels - 1)) + '{}' + ('}' * ($Levels - 1)) }

    function New-NestedHashtable([int] $Levels) {
        $root = @{}; $current = $root
        for ($i = 1; $i -lt $Levels; $i++) { $next = @{}; $current.a = $next; $current = $next }
        $root
    }

    $lone = [string][char]0xD800                     # an unpaired high surrogate: not Unicode text
    $emoji = [char]::ConvertFromUtf32(0x1F600)       # a valid surrogate pair
}

AfterAll {
    Remove-InProcessFixture $work $saved
}

Describe 'Hostile input on <Backend>' -ForEach $backends {
    BeforeAll {
        $database = $null
        if ($Available) {
            $database = Use-SessionStore $Backend (Join-Path $work 'bad-input.db')
            $env:NSELF_CUSTOMER_ID = 'cus_bad'
            Set-UsageConfiguration -CustomerId '' -TimeZone ''
            # Something in every table the refusals must leave alone.
            Add-UsageApiRequest /baseline -EventId baseline
            New-BillingCustomer cus_existing -Name 'Existing' -Email existing@example.com | Out-Null
            Register-UsageService -Name tokens -Unit tokens -Price 0.000002
            Set-BillingPlan team -DisplayName 'Team' -PriceMonthly 10
            Set-UsageQuota -Plan team api 1000
            New-BillingCustomer cus_quota | Out-Null
            Set-UsageQuota -CustomerId cus_quota api 50
            New-BillingSubscription cus_existing team | Out-Null
        }
    }

    BeforeEach {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
        # A refused Set-UsageConfiguration that was wrongly applied fails its own test, not every later one.
        else { Set-UsageConfiguration -CustomerId '' -TimeZone '' }
    }

    AfterAll {
        Remove-SessionStore $database
    }

    Context 'Quantities' {
        It '<Name> is <ErrorId> and writes nothing' -ForEach @(
            @{ Name = 'a negative quantity'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api -5 } }
            @{ Name = 'a non-numeric quantity'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api 'ten' } }
            @{ Name = 'an empty quantity'; ErrorId = 'InvalidQuantity'; Empty = $true; Command = { Add-UsageRecord api '' } }
            @{ Name = 'a NaN double'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api ([double]::NaN) } }
            @{ Name = 'positive infinity'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api ([double]::PositiveInfinity) } }
            @{ Name = 'negative infinity'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api ([double]::NegativeInfinity) } }
            @{ Name = "the text 'NaN'"; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api 'NaN' } }
            @{ Name = "the text 'Infinity'"; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api 'Infinity' } }
            @{ Name = "the text '1e999'"; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api '1e999' } }
            @{ Name = 'a huge double (1e300)'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api 1e300 } }
            @{ Name = '[decimal]::MaxValue'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api ([decimal]::MaxValue) } }
            @{ Name = 'an absurd quantity (1e15)'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api 1e15 } }
            @{ Name = 'an over-precise quantity'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api '0.0000001' } }
            @{ Name = 'an over-precise double'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api ([double]1e-7) } }
            @{ Name = 'a culture-formatted quantity (1,5)'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api '1,5' } }
            @{ Name = 'Arabic-Indic digits'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api '١٢' } }
            @{ Name = 'a hexadecimal quantity'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api '0x10' } }
            @{ Name = 'a negative byte count'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageStorage -1 } }
            @{ Name = 'negative storage hours'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageStorage 1024 -1 } }
            @{ Name = '[long]::MaxValue stored bytes (over the per-event maximum)'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageStorage ([long]::MaxValue) } }
            @{ Name = 'negative bandwidth bytes'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageBandwidth -1 Ingress } }
            @{ Name = 'negative CPU seconds'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageCompute -1 } }
            @{ Name = 'CPU seconds over the per-event maximum'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageCompute 1e13 } }
            @{ Name = 'a negative query duration'; ErrorId = 'InvalidArgument'; Command = { Add-UsageDatabaseQuery SELECT -1 } }
            @{ Name = 'zero function memory'; ErrorId = 'InvalidArgument'; Command = { Add-UsageFunction resize 10 0 } }
        ) {
            Assert-Refused $Command $ErrorId -EmptyTarget:([bool]$Empty)
        }
    }

    Context 'Services, endpoints and other text' {
        It '<Name> is <ErrorId> and writes nothing' -ForEach @(
            @{ Name = 'an unknown service'; ErrorId = 'InvalidService'; Command = { Add-UsageRecord nosuchservice 1 } }
            @{ Name = 'an empty service'; ErrorId = 'InvalidService'; Empty = $true; Command = { Add-UsageRecord '' 1 } }
            @{ Name = 'a white-space service'; ErrorId = 'InvalidService'; Command = { Add-UsageRecord '   ' 1 } }
            @{ Name = 'a 10,000-character service'; ErrorId = 'InvalidService'; Command = { Add-UsageRecord ('a' * 10000) 1 } }
            @{ Name = 'a service with a NUL'; ErrorId = 'InvalidService'; Command = { Add-UsageRecord "api`0" 1 } }
            @{ Name = 'SQL injection as a service'; ErrorId = 'InvalidService'; Command = { Add-UsageRecord "api'; DROP TABLE billing_usage_records; --" 1 } }
            @{ Name = 'a formula as a service'; ErrorId = 'InvalidService'; Command = { Add-UsageRecord "=cmd|' /C calc'!A0" 1 } }
            @{ Name = 'an empty endpoint'; ErrorId = 'InvalidArgument'; Empty = $true; Command = { Add-UsageApiRequest '' } }
            @{ Name = 'a white-space endpoint'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest "  `t " } }
            @{ Name = 'a 10,000-character endpoint'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest ('/' + 'a' * 9999) } }
            @{ Name = 'an endpoint with a NUL'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest "/x`0y" } }
            @{ Name = 'an endpoint with a lone surrogate'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest "/x$lone" } }
            @{ Name = 'a method with a space'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest /x 'GE T' } }
            @{ Name = 'a method with a NUL'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest /x "GET`0" } }
            @{ Name = 'a status code below 100'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest /x GET 99 } }
            @{ Name = 'a status code above 599'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest /x GET 600 } }
            @{ Name = 'an empty function name'; ErrorId = 'InvalidArgument'; Empty = $true; Command = { Add-UsageFunction '' 10 } }
            @{ Name = 'a function name with a lone surrogate'; ErrorId = 'InvalidArgument'; Command = { Add-UsageFunction "fn$lone" 10 } }
            @{ Name = 'an empty query type'; ErrorId = 'InvalidArgument'; Empty = $true; Command = { Add-UsageDatabaseQuery '' 10 } }
        ) {
            Assert-Refused $Command $ErrorId -EmptyTarget:([bool]$Empty)
        }
    }

    Context 'Metadata' {
        It '<Name> is InvalidMetadata and writes nothing' -ForEach @(
            @{ Name = 'text that is not JSON'; Command = { Add-UsageRecord api 1 '{oops' } }
            @{ Name = 'a JSON array'; Command = { Add-UsageRecord api 1 '[1,2]' } }
            @{ Name = 'a JSON number'; Command = { Add-UsageRecord api 1 '42' } }
            @{ Name = 'a JSON string'; Command = { Add-UsageRecord api 1 '"text"' } }
            @{ Name = 'JSON null'; Command = { Add-UsageRecord api 1 'null' } }
            @{ Name = 'JSON true'; Command = { Add-UsageCompute 60 'true' } }
            @{ Name = '1 MB of JSON'; Command = { Add-UsageRecord api 1 (New-MetadataJson 1MB) } }
            @{ Name = 'JSON nested 1,000 deep'; Command = { Add-UsageRecord api 1 (New-NestedJson 1000) } }
            @{ Name = 'a hashtable nested 1,000 deep'; Command = { Add-UsageRecord api 1 (New-NestedHashtable 1000) } }
            @{ Name = 'an escaped NUL'; Command = { Add-UsageRecord api 1 '{"a":"x\u0000y"}' } }
            @{ Name = 'a NUL in a hashtable value'; Command = { Add-UsageRecord api 1 @{ a = "x`0y" } } }
            @{ Name = 'a lone surrogate in JSON text'; Command = { Add-UsageRecord api 1 ('{"a":"' + $lone + '"}') } }
            @{ Name = 'an escaped lone surrogate'; Command = { Add-UsageRecord api 1 '{"a":"\ud800"}' } }
            @{ Name = 'an escaped lone surrogate as a key'; Command = { Add-UsageRecord api 1 '{"\udc00":1}' } }
            @{ Name = 'a lone surrogate in a hashtable value'; Command = { Add-UsageRecord api 1 @{ a = $lone } } }
            @{ Name = 'a lone surrogate as a hashtable key'; Command = { Add-UsageRecord api 1 @{ $lone = 1 } } }
            @{ Name = 'NaN in a hashtable'; Command = { Add-UsageRecord api 1 @{ a = [double]::NaN } } }
            @{ Name = 'a number instead of an object'; Command = { Add-UsageRecord api 1 5 } }
        ) {
            Assert-Refused $Command 'InvalidMetadata'
        }
    }

    Context 'Timestamps' {
        It '<Name> is <ErrorId> and writes nothing' -ForEach @(
            @{ Name = 'a time far in the past'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '1970-01-01T00:00:00Z' } }
            @{ Name = 'a time far in the future'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '2099-01-01' } }
            @{ Name = 'an offset of +25:00'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '2026-01-15T10:00:00+25:00' } }
            @{ Name = 'an offset of -14:30'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '2026-01-15T10:00:00-14:30' } }
            @{ Name = 'a day-first date'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '31/01/2026' } }
            @{ Name = 'a German date'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '27.11.2026' } }
            @{ Name = 'Arabic-Indic digits'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '٢٠٢٦-١١-٢٧' } }
            @{ Name = 'fullwidth digits'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '２０２６-１１-２７T10:00:00Z' } }
            @{ Name = 'a French month name'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '27 novembre 2026' } }
            @{ Name = 'words'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp 'next tuesday' } }
            @{ Name = 'the 30th of February'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '2026-02-30' } }
            @{ Name = 'hour 24'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '2026-01-15T24:00:00Z' } }
            @{ Name = 'a time whose offset passes year 9999'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '9999-12-31T23:59:59-14:00' } }
            @{ Name = 'a time whose offset goes before year 1'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '0001-01-01T00:00:00+14:00' } }
            @{ Name = '[datetime]::MinValue read in UTC+14'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp ([datetime]::MinValue) -TimeZone Pacific/Kiritimati } }
            @{ Name = 'a number'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp 5 } }
            @{ Name = 'an ambiguous local time'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '2026-11-01 01:30:00' -TimeZone America/New_York } }
            @{ Name = 'a local time skipped by daylight saving'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageApiRequest /x -Timestamp '2026-03-08 02:30:00' -TimeZone America/New_York } }
            @{ Name = 'an unknown time zone'; ErrorId = 'InvalidTimeZone'; Command = { Add-UsageApiRequest /x -Timestamp '2026-01-01 10:00' -TimeZone 'Mars/Base' } }
            @{ Name = 'a time zone that is SQL'; ErrorId = 'InvalidTimeZone'; Command = { Add-UsageApiRequest /x -TimeZone "UTC'; DROP TABLE billing_usage_records; --" } }
        ) {
            Assert-Refused $Command $ErrorId
        }
    }

    Context 'Customer ids and event ids' {
        It '<Name> is <ErrorId> and writes nothing' -ForEach @(
            @{ Name = 'a customer id with a space'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId 'cus bad;drop' } }
            @{ Name = 'a customer id with a single quote'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId "cus'quote" } }
            @{ Name = 'a customer id with a double quote'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId 'cus"quote' } }
            @{ Name = 'a customer id with an accented letter'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId 'cüs_1' } }
            @{ Name = 'a Cyrillic customer id'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId 'клиент' } }
            @{ Name = 'a customer id with a trailing newline'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId "cus_ok`n" } }
            @{ Name = 'a customer id with an escape character'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId "cus`e[31m" } }
            @{ Name = 'a customer id with a NUL'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId "cus`0" } }
            @{ Name = 'a customer id that is SQL'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId "x'); DELETE FROM billing_usage_records; --" } }
            @{ Name = 'a customer id that is a formula'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageRecord api 1 -CustomerId '=1+1' } }
            @{ Name = 'a 256-character customer id'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageRecord api 1 -CustomerId ('c' * 256) } }
            @{ Name = 'a 256-character event id'; ErrorId = 'InvalidEventId'; Command = { Add-UsageRecord api 1 -EventId ('e' * 256) } }
            @{ Name = 'an empty event id'; ErrorId = 'InvalidEventId'; Empty = $true; Command = { Add-UsageRecord api 1 -EventId '' } }
            @{ Name = 'a white-space event id'; ErrorId = 'InvalidEventId'; Command = { Add-UsageRecord api 1 -EventId '   ' } }
            @{ Name = 'an event id with a newline'; ErrorId = 'InvalidEventId'; Command = { Add-UsageRecord api 1 -EventId "evt`n1" } }
            @{ Name = 'an event id with a NUL'; ErrorId = 'InvalidEventId'; Command = { Add-UsageRecord api 1 -EventId "evt`0" } }
            @{ Name = 'an event id with an escape character'; ErrorId = 'InvalidEventId'; Command = { Add-UsageRecord api 1 -EventId "evt`e" } }
            @{ Name = 'an event id with a lone surrogate'; ErrorId = 'InvalidEventId'; Command = { Add-UsageRecord api 1 -EventId "evt$lone" } }
        ) {
            Assert-Refused $Command $ErrorId -EmptyTarget:([bool]$Empty)
        }

        It 'no customer id and no default customer is NoCustomerId, saying how to set one' {
            $env:NSELF_CUSTOMER_ID = $null
            Push-Location $work   # no .env here
            try {
                # Given empty, it is refused as such (issue 14 fix 3; CustomerId.Tests.ps1 covers every command).
                Assert-Refused { Add-UsageApiRequest /nobody -CustomerId '' } 'InvalidCustomerId' -EmptyTarget
                (Get-SingleError { Add-UsageApiRequest /nobody }).Exception.Message | Should -Match 'NSELF_CUSTOMER_ID'
            }
            finally { Pop-Location; $env:NSELF_CUSTOMER_ID = 'cus_bad' }
        }

        It 'a 255-character customer id is accepted and read back' {
            $id = 'c' * 254 + 'Z'
            Get-Errors { Add-UsageApiRequest /long-customer -CustomerId $id -EventId long-customer } | Should -BeNullOrEmpty
            (Read-Record long-customer -CustomerId $id).CustomerId | Should -BeExactly $id
        }
    }

    Context 'Record strings and pipeline input' {
        It '-Record <Record> is <ErrorId> and writes nothing' -ForEach @(
            @{ Record = 'api'; ErrorId = 'InvalidRecord' }
            @{ Record = ':1'; ErrorId = 'InvalidRecord' }
            @{ Record = 'api:'; ErrorId = 'InvalidRecord' }
            @{ Record = 'api:ten'; ErrorId = 'InvalidQuantity' }
            @{ Record = 'api:-1'; ErrorId = 'InvalidQuantity' }
            @{ Record = 'api:NaN'; ErrorId = 'InvalidQuantity' }
            @{ Record = 'api:1:[1,2]'; ErrorId = 'InvalidMetadata' }
            @{ Record = 'api:1:{oops'; ErrorId = 'InvalidMetadata' }
            @{ Record = "nope'; DROP TABLE billing_usage_records; --:1"; ErrorId = 'InvalidService' }
        ) {
            Assert-Refused { Add-UsageRecord -Record $Record } $ErrorId
        }

        It 'a piped object with <Name> is <ErrorId> and writes nothing' -ForEach @(
            @{ Name = 'a negative quantity'; ErrorId = 'InvalidQuantity'; Object = @{ Service = 'api'; Quantity = '-1' } }
            @{ Name = 'an empty service'; ErrorId = 'InvalidService'; Empty = $true; Object = @{ Service = ''; Quantity = '1' } }
            @{ Name = 'a customer id with a space'; ErrorId = 'InvalidCustomerId'; Object = @{ Service = 'api'; Quantity = 1; CustomerId = 'cus x' } }
            @{ Name = 'a German timestamp'; ErrorId = 'InvalidTimestamp'; Object = @{ Service = 'api'; Quantity = 1; Timestamp = '27.11.2026 10:00' } }
            @{ Name = 'metadata that is a JSON scalar'; ErrorId = 'InvalidMetadata'; Object = @{ Service = 'api'; Quantity = 1; Metadata = '3' } }
        ) {
            $piped = [pscustomobject]$Object
            Assert-Refused { $piped | Add-UsageRecord } $ErrorId -EmptyTarget:([bool]$Empty)
        }

        It 'goes on with the other records after one bad record string or piped object' {
            $before = Get-EventCount
            (Get-SingleError { Add-UsageRecord -Record 'api:1', 'nope:1', 'database:2' }).FullyQualifiedErrorId | Should -BeLike 'InvalidService,*'
            (Get-SingleError {
                    [pscustomobject]@{ Service = 'api'; Quantity = 1 }, [pscustomobject]@{ Service = 'api'; Quantity = 'NaN' }, [pscustomobject]@{ Service = 'database'; Quantity = 2 } | Add-UsageRecord
                }).FullyQualifiedErrorId | Should -BeLike 'InvalidQuantity,*'
            Get-EventCount | Should -Be ($before + 4)
        }
    }

    Context 'Customers, services, quotas, plans, subscriptions and configuration' {
        It '<Command> with <Name> is <ErrorId> and changes nothing' -ForEach @(
            @{ Command = 'New-BillingCustomer'; Name = 'an empty id'; ErrorId = 'InvalidCustomerId'; Empty = $true; Run = { New-BillingCustomer '' } }
            @{ Command = 'New-BillingCustomer'; Name = 'a white-space id'; ErrorId = 'InvalidCustomerId'; Run = { New-BillingCustomer '   ' } }
            @{ Command = 'New-BillingCustomer'; Name = 'an id with a space'; ErrorId = 'InvalidCustomerId'; Run = { New-BillingCustomer 'cus new' } }
            @{ Command = 'New-BillingCustomer'; Name = 'an id with quotes'; ErrorId = 'InvalidCustomerId'; Run = { New-BillingCustomer "cus'new`"" } }
            @{ Command = 'New-BillingCustomer'; Name = 'an id with Unicode letters'; ErrorId = 'InvalidCustomerId'; Run = { New-BillingCustomer 'kundé_ß' } }
            @{ Command = 'New-BillingCustomer'; Name = 'a 256-character id'; ErrorId = 'InvalidCustomerId'; Run = { New-BillingCustomer ('n' * 256) } }
            @{ Command = 'New-BillingCustomer'; Name = 'an id with a trailing newline'; ErrorId = 'InvalidCustomerId'; Run = { New-BillingCustomer "cus_new`n" } }
            @{ Command = 'New-BillingCustomer'; Name = 'an id that is SQL'; ErrorId = 'InvalidCustomerId'; Run = { New-BillingCustomer "cus'); DROP TABLE billing_customers; --" } }
            @{ Command = 'New-BillingCustomer'; Name = 'an id that exists'; ErrorId = 'CustomerExists'; Category = 'ResourceExists'; Run = { New-BillingCustomer cus_existing } }
            @{ Command = 'New-BillingCustomer'; Name = 'an email without @'; ErrorId = 'InvalidArgument'; Run = { New-BillingCustomer cus_new -Email 'not-an-email' } }
            @{ Command = 'New-BillingCustomer'; Name = 'a name with a NUL'; ErrorId = 'InvalidArgument'; Run = { New-BillingCustomer cus_new -Name "A`0B" } }
            @{ Command = 'New-BillingCustomer'; Name = 'a company with a lone surrogate'; ErrorId = 'InvalidArgument'; Run = { New-BillingCustomer cus_new -Company "Acme$lone" } }
            @{ Command = 'New-BillingCustomer'; Name = 'metadata that is a JSON array'; ErrorId = 'InvalidMetadata'; Run = { New-BillingCustomer cus_new -Metadata '[1]' } }
            @{ Command = 'New-BillingCustomer'; Name = '1 MB of metadata'; ErrorId = 'InvalidMetadata'; Run = { New-BillingCustomer cus_new -Metadata (New-MetadataJson 1MB) } }
            @{ Command = 'Set-BillingCustomer'; Name = 'an empty id'; ErrorId = 'InvalidCustomerId'; Empty = $true; Run = { Set-BillingCustomer '' -Name x } }
            @{ Command = 'Set-BillingCustomer'; Name = 'an id with a space'; ErrorId = 'InvalidCustomerId'; Run = { Set-BillingCustomer 'cus existing' -Name x } }
            @{ Command = 'Set-BillingCustomer'; Name = 'an unknown id'; ErrorId = 'CustomerNotFound'; Category = 'ObjectNotFound'; Run = { Set-BillingCustomer cus_nobody -Name x } }
            @{ Command = 'Set-BillingCustomer'; Name = 'metadata nested 1,000 deep'; ErrorId = 'InvalidMetadata'; Run = { Set-BillingCustomer cus_existing -Metadata (New-NestedJson 1000) } }
            @{ Command = 'Set-BillingCustomer'; Name = 'an email with a space'; ErrorId = 'InvalidArgument'; Run = { Set-BillingCustomer cus_existing -Email 'a b@example.com' } }
            @{ Command = 'Register-UsageService'; Name = 'an empty name'; ErrorId = 'InvalidService'; Empty = $true; Run = { Register-UsageService '' tokens } }
            @{ Command = 'Register-UsageService'; Name = 'a 10,000-character name'; ErrorId = 'InvalidService'; Run = { Register-UsageService ('s' * 10000) tokens } }
            @{ Command = 'Register-UsageService'; Name = 'a name that is SQL'; ErrorId = 'InvalidService'; Run = { Register-UsageService "x'; DROP TABLE usage_services; --" tokens } }
            @{ Command = 'Register-UsageService'; Name = 'a name that is a formula'; ErrorId = 'InvalidService'; Run = { Register-UsageService '=cmd' tokens } }
            @{ Command = 'Register-UsageService'; Name = 'a built-in name'; ErrorId = 'ServiceExists'; Category = 'ResourceExists'; Run = { Register-UsageService API calls } }
            @{ Command = 'Register-UsageService'; Name = 'an empty unit'; ErrorId = 'InvalidUnit'; Empty = $true; Run = { Register-UsageService messages '' } }
            @{ Command = 'Register-UsageService'; Name = 'a unit with a NUL'; ErrorId = 'InvalidUnit'; Run = { Register-UsageService messages "msg`0" } }
            @{ Command = 'Register-UsageService'; Name = 'a negative price'; ErrorId = 'InvalidArgument'; Run = { Register-UsageService messages messages -Price -1 } }
            @{ Command = 'Set-UsageQuota'; Name = 'an unknown plan'; ErrorId = 'PlanNotFound'; Category = 'ObjectNotFound'; Run = { Set-UsageQuota -Plan nosuch api 5 } }
            @{ Command = 'Set-UsageQuota'; Name = 'an empty plan'; ErrorId = 'PlanNotFound'; Category = 'ObjectNotFound'; Empty = $true; Run = { Set-UsageQuota -Plan '' api 5 } }
            @{ Command = 'Set-UsageQuota'; Name = 'an unknown service'; ErrorId = 'InvalidService'; Run = { Set-UsageQuota -Plan team nosuch 5 } }
            @{ Command = 'Set-UsageQuota'; Name = 'a customer id with a space'; ErrorId = 'InvalidCustomerId'; Run = { Set-UsageQuota -CustomerId 'cus quota' api 5 } }
            @{ Command = 'Set-UsageQuota'; Name = 'an empty customer id'; ErrorId = 'InvalidCustomerId'; Empty = $true; Run = { Set-UsageQuota -CustomerId '' api 5 } }
            @{ Command = 'Set-UsageQuota'; Name = 'a tier price that is not a number'; ErrorId = 'InvalidPrice'; Run = { Set-UsageQuota -Plan team api 100 -PricingModel Graduated -Tier @{ UpTo = 10; UnitPrice = 'abc' }, @{ UnitPrice = 1 } } }
            @{ Command = 'Set-UsageQuota'; Name = 'a NaN tier price'; ErrorId = 'InvalidPrice'; Run = { Set-UsageQuota -Plan team api 100 -PricingModel Graduated -Tier @{ UpTo = 10; UnitPrice = [double]::NaN }, @{ UnitPrice = 1 } } }
            @{ Command = 'Set-UsageQuota'; Name = 'a negative overage price'; ErrorId = 'InvalidArgument'; Run = { Set-UsageQuota -Plan team api 100 -OveragePrice -1 } }
            @{ Command = 'Set-UsageQuota'; Name = 'a limit type with a NUL'; ErrorId = 'InvalidArgument'; Run = { Set-UsageQuota -Plan team api 100 -LimitType "req`0" } }
            @{ Command = 'Set-BillingPlan'; Name = 'an empty name'; ErrorId = 'InvalidArgument'; Empty = $true; Run = { Set-BillingPlan '' -PriceMonthly 1 } }
            @{ Command = 'Set-BillingPlan'; Name = 'a name with a space'; ErrorId = 'InvalidArgument'; Run = { Set-BillingPlan 'team plan' -PriceMonthly 1 } }
            @{ Command = 'Set-BillingPlan'; Name = 'a name that is SQL'; ErrorId = 'InvalidArgument'; Run = { Set-BillingPlan "team'; DROP TABLE billing_plans; --" } }
            @{ Command = 'Set-BillingPlan'; Name = 'a negative fee'; ErrorId = 'InvalidArgument'; Run = { Set-BillingPlan team -PriceMonthly -1 } }
            @{ Command = 'Set-BillingPlan'; Name = 'a currency that is not ISO 4217'; ErrorId = 'InvalidArgument'; Run = { Set-BillingPlan team -Currency 'US$' } }
            @{ Command = 'Set-BillingPlan'; Name = 'a display name with a NUL'; ErrorId = 'InvalidArgument'; Run = { Set-BillingPlan team -DisplayName "Team`0" } }
            @{ Command = 'Set-BillingPlan'; Name = 'a display name with a lone surrogate'; ErrorId = 'InvalidArgument'; Run = { Set-BillingPlan team -DisplayName "Team$lone" } }
            @{ Command = 'Set-BillingPlan'; Name = 'a 10,000-character description'; ErrorId = 'InvalidArgument'; Run = { Set-BillingPlan team -Description ('d' * 10000) } }
            @{ Command = 'New-BillingSubscription'; Name = 'an unknown plan'; ErrorId = 'PlanNotFound'; Category = 'ObjectNotFound'; Run = { New-BillingSubscription cus_newsub nosuch } }
            @{ Command = 'New-BillingSubscription'; Name = 'an empty plan'; ErrorId = 'PlanNotFound'; Category = 'ObjectNotFound'; Empty = $true; Run = { New-BillingSubscription cus_newsub '' } }
            @{ Command = 'New-BillingSubscription'; Name = 'a customer id with a space'; ErrorId = 'InvalidCustomerId'; Run = { New-BillingSubscription 'cus newsub' team } }
            @{ Command = 'New-BillingSubscription'; Name = 'a start that is not a time'; ErrorId = 'InvalidTimestamp'; Run = { New-BillingSubscription cus_newsub team -Start 'soon' } }
            @{ Command = 'New-BillingSubscription'; Name = 'a German start date'; ErrorId = 'InvalidTimestamp'; Run = { New-BillingSubscription cus_newsub team -Start '01.12.2026' } }
            @{ Command = 'New-BillingSubscription'; Name = 'a start whose periods pass year 9999'; ErrorId = 'InvalidTimestamp'; Run = { New-BillingSubscription cus_newsub team -Start '9999-12-31' } }
            @{ Command = 'New-BillingSubscription'; Name = 'an unknown time zone'; ErrorId = 'InvalidTimeZone'; Run = { New-BillingSubscription cus_newsub team -TimeZone 'Mars/Base' } }
            @{ Command = 'Set-UsageConfiguration'; Name = 'a customer id with a space'; ErrorId = 'InvalidCustomerId'; Run = { Set-UsageConfiguration -CustomerId 'cus session' } }
            @{ Command = 'Set-UsageConfiguration'; Name = 'a 256-character customer id'; ErrorId = 'InvalidCustomerId'; Run = { Set-UsageConfiguration -CustomerId ('s' * 256) } }
            @{ Command = 'Set-UsageConfiguration'; Name = 'a customer id with a trailing newline'; ErrorId = 'InvalidCustomerId'; Run = { Set-UsageConfiguration -CustomerId "cus_session`n" } }
            @{ Command = 'Set-UsageConfiguration'; Name = 'an unknown time zone (with a good customer id)'; ErrorId = 'InvalidTimeZone'; Run = { Set-UsageConfiguration -CustomerId cus_session -TimeZone 'Mars/Base' } }
            @{ Command = 'Start-UsageBatch'; Name = 'a flush interval that is not a number'; ErrorId = 'InvalidArgument'; Run = { Start-UsageBatch -FlushInterval 'soon' } }
            @{ Command = 'Start-UsageBatch'; Name = 'a flush interval of zero'; ErrorId = 'InvalidArgument'; Run = { Start-UsageBatch -FlushInterval 0 } }
        ) {
            Assert-Refused $Run $ErrorId ($Category ?? 'InvalidArgument') -EmptyTarget:([bool]$Empty)
        }
    }

    Context 'Documented limits (src/NSelf.Usage.Engine)' {
        # Each limit exactly at the boundary (accepted, read back verbatim) and one step past it (refused).
        BeforeDiscovery {
            $limits = @(
                @{ Limit = 'metadata of 65,536 bytes (Metadata.MaximumBytes)'; ErrorId = 'InvalidMetadata'
                    At = { $json = New-MetadataJson 65536; Add-UsageRecord api 1 $json -EventId lim-bytes; (Read-Record lim-bytes).Metadata | Should -BeExactly $json }
                    Past = { Add-UsageRecord api 1 (New-MetadataJson 65537) } }
                @{ Limit = 'metadata of 65,536 bytes in two-byte characters'; ErrorId = 'InvalidMetadata'
                    At = { $json = New-MetadataJson 65536 'é'; Add-UsageRecord api 1 $json -EventId lim-bytes2; (Read-Record lim-bytes2).Metadata | Should -BeExactly $json }
                    Past = { Add-UsageRecord api 1 (New-MetadataJson 65537 'é') } }
                @{ Limit = 'metadata nested 32 levels as JSON (Metadata.MaximumDepth)'; ErrorId = 'InvalidMetadata'
                    At = { $json = New-NestedJson 32; Add-UsageRecord api 1 $json -EventId lim-depth; (Read-Record lim-depth).Metadata | Should -BeExactly $json }
                    Past = { Add-UsageRecord api 1 (New-NestedJson 33) } }
                @{ Limit = 'metadata nested 32 levels as hashtables'; ErrorId = 'InvalidMetadata'
                    At = { Add-UsageRecord api 1 (New-NestedHashtable 32) -EventId lim-depth-ht; (Read-Record lim-depth-ht).Metadata | Should -BeExactly (New-NestedJson 32) }
                    Past = { Add-UsageRecord api 1 (New-NestedHashtable 33) } }
                @{ Limit = 'the earliest time, 2000-01-01T00:00:00Z (UsageEventFactory.EarliestTimestamp)'; ErrorId = 'InvalidTimestamp'
                    At = { Add-UsageRecord api 1 -Timestamp '2000-01-01T00:00:00Z' -EventId lim-earliest; (Read-Record lim-earliest).Timestamp | Should -Be ([datetimeoffset]'2000-01-01T00:00:00Z') }
                    Past = { Add-UsageRecord api 1 -Timestamp '1999-12-31T23:59:59.999999Z' } }
                @{ Limit = 'the latest time, one day after now (UsageEventFactory.MaximumFutureSkew)'; ErrorId = 'InvalidTimestamp'
                    At = { $at = [datetimeoffset]::UtcNow.AddDays(1).AddMinutes(-5); Add-UsageRecord api 1 -Timestamp $at -EventId lim-latest; (Read-Record lim-latest).Timestamp.UtcTicks | Should -Be ($at.UtcTicks - $at.UtcTicks % 10) }
                    Past = { Add-UsageRecord api 1 -Timestamp ([datetimeoffset]::UtcNow.AddDays(1).AddMinutes(5)) } }
                @{ Limit = 'an offset of +14:00 (TimeInput)'; ErrorId = 'InvalidTimestamp'
                    At = { Add-UsageRecord api 1 -Timestamp '2026-01-15T10:00:00+14:00' -EventId lim-plus14; (Read-Record lim-plus14).Timestamp | Should -Be ([datetimeoffset]'2026-01-14T20:00:00Z') }
                    Past = { Add-UsageRecord api 1 -Timestamp '2026-01-15T10:00:00+14:01' } }
                @{ Limit = 'an offset of -14:00'; ErrorId = 'InvalidTimestamp'
                    At = { Add-UsageRecord api 1 -Timestamp '2026-01-15T10:00:00-1400' -EventId lim-minus14; (Read-Record lim-minus14).Timestamp | Should -Be ([datetimeoffset]'2026-01-16T00:00:00Z') }
                    Past = { Add-UsageRecord api 1 -Timestamp '2026-01-15T10:00:00-14:01' } }
                @{ Limit = 'a quantity of 1,000,000,000 (Quantities.MaximumPerEvent)'; ErrorId = 'InvalidQuantity'
                    At = { Add-UsageRecord api 1000000000 -EventId lim-max; (Read-Record lim-max).Quantity | Should -Be 1000000000 }
                    Past = { Add-UsageRecord api '1000000000.000001' } }
                @{ Limit = 'six decimal places (Quantities.Scale)'; ErrorId = 'InvalidQuantity'
                    At = { Add-UsageRecord api '999999999.999999' -EventId lim-scale; (Read-Record lim-scale).Quantity | Should -Be 999999999.999999d }
                    Past = { Add-UsageRecord api '0.1234567' } }
                @{ Limit = 'a 255-character customer id (TextRules)'; ErrorId = 'InvalidCustomerId'
                    At = { $id = 'a' * 255; Add-UsageRecord api 1 -CustomerId $id -EventId lim-customer; (Read-Record lim-customer -CustomerId $id).CustomerId | Should -BeExactly $id }
                    Past = { Add-UsageRecord api 1 -CustomerId ('a' * 256) } }
                @{ Limit = 'a 255-character event id (TextRules.MaximumIdLength)'; ErrorId = 'InvalidEventId'
                    At = { $id = "'=" + ('e' * 253); Add-UsageRecord api 1 -EventId $id; (Read-Record $id).EventId | Should -BeExactly $id }
                    Past = { Add-UsageRecord api 1 -EventId ('e' * 256) } }
                @{ Limit = 'a 2,048-character endpoint (TextRules.MaximumTextLength)'; ErrorId = 'InvalidArgument'
                    At = { $endpoint = '/' + 'p' * 2047; Add-UsageApiRequest $endpoint -EventId lim-endpoint; ((Read-Record lim-endpoint).Metadata | ConvertFrom-Json).endpoint | Should -BeExactly $endpoint }
                    Past = { Add-UsageApiRequest ('/' + 'p' * 2048) } }
                @{ Limit = 'a 32-character HTTP method'; ErrorId = 'InvalidArgument'
                    At = { Add-UsageApiRequest /m ('M' * 32) -EventId lim-method; ((Read-Record lim-method).Metadata | ConvertFrom-Json).method | Should -BeExactly ('M' * 32) }
                    Past = { Add-UsageApiRequest /m ('M' * 33) } }
                @{ Limit = 'status code 100'; ErrorId = 'InvalidArgument'
                    At = { Add-UsageApiRequest /s GET 100 -EventId lim-status100; ((Read-Record lim-status100).Metadata | ConvertFrom-Json).status | Should -Be 100 }
                    Past = { Add-UsageApiRequest /s GET 99 } }
                @{ Limit = 'status code 599'; ErrorId = 'InvalidArgument'
                    At = { Add-UsageApiRequest /s GET 599 -EventId lim-status599; ((Read-Record lim-status599).Metadata | ConvertFrom-Json).status | Should -Be 599 }
                    Past = { Add-UsageApiRequest /s GET 600 } }
                @{ Limit = 'a 255-character function name'; ErrorId = 'InvalidArgument'
                    At = { $name = 'f' * 255; Add-UsageFunction $name 1 -EventId lim-function; ((Read-Record lim-function).Metadata | ConvertFrom-Json).function | Should -BeExactly $name }
                    Past = { Add-UsageFunction ('f' * 256) 1 } }
                @{ Limit = 'function memory of 1,048,576 MB'; ErrorId = 'InvalidArgument'
                    At = { Add-UsageFunction big 1 1048576 -EventId lim-memory; ((Read-Record lim-memory).Metadata | ConvertFrom-Json).memory_mb | Should -Be 1048576 }
                    Past = { Add-UsageFunction big 1 1048577 } }
                @{ Limit = 'a duration of 366 days'; ErrorId = 'InvalidArgument'
                    At = { Add-UsageFunction long 31622400000 -EventId lim-duration; ((Read-Record lim-duration).Metadata | ConvertFrom-Json).duration_ms | Should -Be 31622400000 }
                    Past = { Add-UsageFunction long 31622400001 } }
                @{ Limit = 'a 64-character query type'; ErrorId = 'InvalidArgument'
                    At = { Add-UsageDatabaseQuery ('Q' * 64) 1 -EventId lim-query; ((Read-Record lim-query).Metadata | ConvertFrom-Json).type | Should -BeExactly ('Q' * 64) }
                    Past = { Add-UsageDatabaseQuery ('Q' * 65) 1 } }
                @{ Limit = 'a 100-character service name'; ErrorId = 'InvalidService'
                    At = { $name = 's' + 'x' * 99; Register-UsageService $name units; (Get-UsageService $name).Name | Should -BeExactly $name }
                    Past = { Register-UsageService ('s' + 'x' * 100) units } }
                @{ Limit = 'a 50-character unit'; ErrorId = 'InvalidUnit'
                    At = { $unit = '=' + 'u' * 49; Register-UsageService unit50 $unit; (Get-UsageService unit50).Unit | Should -BeExactly $unit }
                    Past = { Register-UsageService unit51 ('u' * 51) } }
                @{ Limit = 'a 500-character service description'; ErrorId = 'InvalidArgument'
                    At = { $text = ("'; DROP TABLE usage_services; --" + 'd' * 500).Substring(0, 500); Register-UsageService described units -Description $text; (Get-UsageService described).Description | Should -BeExactly $text }
                    Past = { Register-UsageService described2 units -Description ('d' * 501) } }
                @{ Limit = 'a service price with 10 decimal places'; ErrorId = 'InvalidArgument'
                    At = { Register-UsageService priced units -Price 0.0000000001; (Get-UsageService priced).DisplayPrice | Should -Be 0.0000000001 }
                    Past = { Register-UsageService priced2 units -Price 0.00000000001 } }
                @{ Limit = 'a 255-character customer name'; ErrorId = 'InvalidArgument'
                    At = { $name = ("Robert'); DROP TABLE billing_customers; --" + 'n' * 255).Substring(0, 255); New-BillingCustomer cus_named -Name $name | Out-Null; (Get-BillingCustomer cus_named).Name | Should -BeExactly $name }
                    Past = { New-BillingCustomer cus_named2 -Name ('n' * 256) } }
                @{ Limit = 'a plan fee with two decimal places (nself''s numeric(10,2))'; ErrorId = 'InvalidArgument'
                    At = { Set-BillingPlan fees -PriceMonthly 9.99; (Get-BillingPlan fees).PriceMonthly | Should -Be 9.99 }
                    Past = { Set-BillingPlan fees -PriceMonthly 9.999 } }
                @{ Limit = 'the largest plan fee, 99,999,999.99'; ErrorId = 'InvalidArgument'
                    At = { Set-BillingPlan bigfees -PriceYearly 99999999.99; (Get-BillingPlan bigfees).PriceYearly | Should -Be 99999999.99 }
                    Past = { Set-BillingPlan bigfees -PriceYearly 100000000 } }
                @{ Limit = 'the largest overage price, 9,999.999999'; ErrorId = 'InvalidArgument'
                    At = { Set-UsageQuota -Plan team storage 10 -OveragePrice 9999.999999; (Get-UsageQuota -Plan team -Service storage).OveragePrice | Should -Be 9999.999999 }
                    Past = { Set-UsageQuota -Plan team storage 10 -OveragePrice 10000 } }
                @{ Limit = 'the largest service price, below 10^10'; ErrorId = 'InvalidArgument'
                    At = { Register-UsageService pricey -Unit calls -Price 9999999999.9999999999d; (Get-UsageService pricey).DisplayPrice | Should -Be 9999999999.9999999999d }
                    Past = { Register-UsageService pricey2 -Unit calls -Price 10000000000 } }
                @{ Limit = 'a 255-character plan display name'; ErrorId = 'InvalidArgument'
                    At = { $name = ('=HYPERLINK("http://example.com")' + 'p' * 255).Substring(0, 255); Set-BillingPlan named -DisplayName $name; (Get-BillingPlan named).DisplayName | Should -BeExactly $name }
                    Past = { Set-BillingPlan named -DisplayName ('p' * 256) } }
                @{ Limit = 'a 2,048-character plan description'; ErrorId = 'InvalidArgument'
                    At = { $text = 'd' * 2048; Set-BillingPlan named -Description $text; (Get-BillingPlan named).Description | Should -BeExactly $text }
                    Past = { Set-BillingPlan named -Description ('d' * 2049) } }
                @{ Limit = 'an overage price with six decimal places'; ErrorId = 'InvalidArgument'
                    At = { Set-UsageQuota -Plan team compute 10 -OveragePrice 0.000001; (Get-UsageQuota -Plan team -Service compute).OveragePrice | Should -Be 0.000001 }
                    Past = { Set-UsageQuota -Plan team compute 10 -OveragePrice 0.0000001 } }
                @{ Limit = 'a package size with six decimal places'; ErrorId = 'InvalidArgument'
                    At = { Set-UsageQuota -Plan team bandwidth 10 -PricingModel Package -PackageSize 0.000001 -PackagePrice 1; (Get-UsageQuota -Plan team -Service bandwidth).PackageSize | Should -Be 0.000001 }
                    Past = { Set-UsageQuota -Plan team bandwidth 10 -PricingModel Package -PackageSize 0.0000001 -PackagePrice 1 } }
                @{ Limit = 'a quota limit of -1 (unlimited)'; ErrorId = 'InvalidArgument'
                    At = { Set-UsageQuota -Plan team database -1; (Get-UsageQuota -Plan team -Service database).Limit | Should -BeNullOrEmpty }
                    Past = { Set-UsageQuota -Plan team database -2 } }
                @{ Limit = 'a 50-character quota limit type'; ErrorId = 'InvalidArgument'
                    At = { $type = 'l' * 50; Set-UsageQuota -Plan team functions 10 -LimitType $type; (Get-UsageQuota -Plan team -Service functions).LimitType | Should -BeExactly $type }
                    Past = { Set-UsageQuota -Plan team functions 10 -LimitType ('l' * 51) } }
            )
        }

        It '<Limit>: at the limit is accepted and read back' -ForEach $limits {
            Get-Errors $At | Should -BeNullOrEmpty
        }

        It '<Limit>: just past it is <ErrorId>' -ForEach $limits {
            Assert-Refused $Past $ErrorId
        }
    }

    Context 'Legal but hostile values are stored verbatim' {
        # The values are made when the test runs: raw control characters in test data would end up
        # in the NUnit report, where they are not valid XML.
        It 'an endpoint with <Name> is read back exactly' -ForEach @(
            @{ Name = 'SQL injection'; Endpoint = { "/x'); DROP TABLE billing_usage_records; --" } }
            @{ Name = 'a formula'; Endpoint = { "=cmd|' /C calc'!A0" } }
            @{ Name = 'a leading plus'; Endpoint = { '+1' } }
            @{ Name = 'a leading at sign'; Endpoint = { '@SUM(A1:A2)' } }
            @{ Name = 'an apostrophe before a formula'; Endpoint = { "'=1+1" } }
            @{ Name = 'ANSI escape sequences'; Endpoint = { "/a`e[31mred`e[0m" } }
            @{ Name = 'a newline, a carriage return and a tab'; Endpoint = { "/a`nb`rc`td" } }
            @{ Name = 'DEL and C1 controls'; Endpoint = { "/a$([char]0x7f)b$([char]0x85)c$([char]0x9b)" } }
            @{ Name = 'a right-to-left override'; Endpoint = { "/invoice$([char]0x202E)fdp.exe" } }
            @{ Name = 'an emoji (a surrogate pair)'; Endpoint = { "/$emoji/é/日本" } }
            @{ Name = 'surrounding spaces'; Endpoint = { ' /padded ' } }
            @{ Name = 'JSON and backslashes'; Endpoint = { '{"a":1}\u0000\"C:\path\"' } }
            @{ Name = 'percent escapes'; Endpoint = { '/x%00y%27%22' } }
        ) {
            $text = & $Endpoint
            $id = 'verbatim-' + [guid]::NewGuid().ToString('n')
            Get-Errors { Add-UsageApiRequest $text -EventId $id -CustomerId cus_verbatim } | Should -BeNullOrEmpty
            $stored = ((Read-Record $id -CustomerId cus_verbatim).Metadata | ConvertFrom-Json).endpoint
            Show $stored | Should -BeExactly (Show $text)
            $stored.Length | Should -Be $text.Length
        }

        It 'metadata values that are SQL, formulas and controls are read back exactly' {
            $values = [ordered]@{ sql = "'; DROP TABLE billing_usage_records; --"; formula = '=1+1'; plus = '+SUM(1)'; at = '@A1'; controls = "`e[1m`n`t"; emoji = $emoji }
            Get-Errors { Add-UsageRecord api 1 $values -EventId verbatim-metadata -CustomerId cus_verbatim } | Should -BeNullOrEmpty
            $stored = (Read-Record verbatim-metadata -CustomerId cus_verbatim).Metadata | ConvertFrom-Json
            foreach ($key in $values.Keys) { Show $stored.$key | Should -BeExactly (Show $values[$key]) -Because $key }
        }

        It 'customer, service and plan text that is SQL or a formula is read back exactly' {
            $name = "Robert'); DROP TABLE billing_customers; --"
            $company = '=HYPERLINK("http://evil.example","click")'
            New-BillingCustomer cus_hostile -Name $name -Company $company -Metadata @{ note = "x' OR '1'='1" } | Out-Null
            Set-BillingCustomer cus_hostile -Email "o'brien+billing@example.com"
            $customer = Get-BillingCustomer cus_hostile
            $customer.Name | Should -BeExactly $name
            $customer.Company | Should -BeExactly $company
            $customer.Email | Should -BeExactly "o'brien+billing@example.com"
            ($customer.Metadata | ConvertFrom-Json).note | Should -BeExactly "x' OR '1'='1"
            Register-UsageService -Name 'robert.tables' -Unit '@units' -Description "'); DELETE FROM usage_services; --"
            (Get-UsageService robert.tables).Description | Should -BeExactly "'); DELETE FROM usage_services; --"
            (Get-UsageService robert.tables).Unit | Should -BeExactly '@units'
            @(Get-UsageService).Count | Should -BeGreaterOrEqual 7   # the built-in six and more: nothing was dropped
        }

        It 'a service name is matched without case or surrounding white space, as documented' {
            Get-Errors { Add-UsageRecord " API`n" 2 -EventId verbatim-service -CustomerId cus_verbatim } | Should -BeNullOrEmpty
            (Read-Record verbatim-service -CustomerId cus_verbatim).Service | Should -BeExactly 'api'
        }

        It 'quantities in invariant notation are stored exactly' {
            Add-UsageRecord api '1e3' -EventId q-exponent -CustomerId cus_verbatim
            Add-UsageRecord api '  12.5  ' -EventId q-padded -CustomerId cus_verbatim
            Add-UsageRecord api 0 -EventId q-zero -CustomerId cus_verbatim
            Add-UsageRecord api 0.000001 -EventId q-small -CustomerId cus_verbatim
            (Read-Record q-exponent -CustomerId cus_verbatim).Quantity | Should -Be 1000
            (Read-Record q-padded -CustomerId cus_verbatim).Quantity | Should -Be 12.5
            (Read-Record q-zero -CustomerId cus_verbatim).Quantity | Should -Be 0
            (Read-Record q-small -CustomerId cus_verbatim).Quantity | Should -Be 0.000001
        }
    }

    Context 'Injection through export and import' {
        BeforeAll {
            $hostile = @(
                "x'); DROP TABLE billing_usage_records; --"
                "=cmd|' /C calc'!A0"
                '=1+1'
                '+1'
                '-1+2'
                '@SUM(A1:A2)'
                "'=1+1"
                "''=x"
                "'plain"
                "Robert`"; DELETE FROM billing_customers; --"
            )
            if ($Available) {
                foreach ($text in $hostile) {
                    Add-UsageApiRequest $text -EventId $text -CustomerId cus_inject -Timestamp '2026-01-05T00:00:00Z'
                }
                Add-UsageRecord api 1 -EventId plain -CustomerId '-leading-hyphen' -Timestamp '2026-01-05T00:00:00Z'
            }
        }

        It 'reads every SQL and formula string back exactly with Get-UsageRecord' {
            $records = @(Get-UsageRecord -CustomerId cus_inject)
            $records | Should -HaveCount $hostile.Count
            foreach ($text in $hostile) {
                $record = $records | Where-Object { $_.EventId -ceq $text }
                $record | Should -HaveCount 1 -Because "event id $text"
                ($record.Metadata | ConvertFrom-Json).endpoint | Should -BeExactly $text
            }
        }

        It 'exports to CSV with every formula cell neutralised, leaving the store and its tables intact' {
            $before = Get-StoreState
            $events = Get-EventCount
            $file = Export-Usage Csv (Join-Path $work "inject-$Backend.csv") -AllCustomers
            $rows = @(Import-Csv -LiteralPath $file.FullName)
            $rows.Count | Should -Be $events
            foreach ($row in $rows) {
                foreach ($column in 'EventId', 'CustomerId', 'Service', 'Unit') {
                    $row.$column | Should -Not -Match '^[=+\-@\t\r]' -Because "a spreadsheet must not run the $column cell '$($row.$column)'"
                }
            }
            ($rows | Where-Object CustomerId -EQ "'-leading-hyphen").EventId | Should -Be 'plain'
            ($rows | Where-Object CustomerId -EQ cus_inject).EventId | Should -Contain "'=cmd|' /C calc'!A0"
            ($rows | Where-Object CustomerId -EQ cus_inject).EventId | Should -Contain "''=1+1"
            Test-UsageStore | Should -BeTrue
            Get-EventCount | Should -Be $events
            Get-StoreState | Should -BeExactly $before
        }

        It 'imports its own <Format> export back as duplicates: every id and value came back exactly' -ForEach @(
            @{ Format = 'Csv' }
            @{ Format = 'Json' }
        ) {
            $events = Get-EventCount
            $file = Export-Usage $Format (Join-Path $work "roundtrip-$Backend.$($Format.ToLowerInvariant())") -AllCustomers -Force
            $result = Import-UsageRecord $file.FullName
            $result.Rows | Should -Be $events
            $result.Rejected | Should -Be 0
            $result.Inserted | Should -Be 0 -Because 'an event id changed by the export would be inserted as a new event'
            $result.Duplicates | Should -Be $events
            Get-EventCount | Should -Be $events
        }
    }

    Context 'Import-UsageRecord with hostile files' {
        BeforeAll {
            $files = Join-Path $work "import-$Backend"
            New-Item -ItemType Directory -Path $files -Force | Out-Null
        }

        It '<Name> is <ErrorId> and imports nothing' -ForEach @(
            @{ Name = 'a file that does not exist'; ErrorId = 'InvalidArgument'; Category = 'ObjectNotFound'; Missing = $true }
            @{ Name = 'a CSV without a Service column'; ErrorId = 'InvalidRecord'; Category = 'InvalidData'; Text = "Foo,Bar`n1,2" }
            @{ Name = 'a JSON array of numbers'; ErrorId = 'InvalidRecord'; Category = 'InvalidData'; Text = '[1,2]' }
            @{ Name = 'a JSON object instead of an array'; ErrorId = 'InvalidRecord'; Category = 'InvalidData'; Text = '{"Service":"api","Quantity":1}' }
            @{ Name = 'JSON nested 1,000 deep'; ErrorId = 'InvalidRecord'; Category = 'InvalidData'; Text = ('[' * 1000) + (']' * 1000) }
            @{ Name = 'binary garbage'; ErrorId = 'InvalidRecord'; Category = 'InvalidData'; Bytes = [byte[]](0..255) }
            @{ Name = 'a damaged gzip file'; ErrorId = 'InvalidRecord'; Category = 'InvalidData'; Bytes = [byte[]](0x1f, 0x8b, 1, 2, 3, 4) }
            @{ Name = 'a row whose service is a formula'; ErrorId = 'InvalidService'; Text = "Service,Quantity,CustomerId`n`"=cmd|' /C calc'!A0`",1,cus_import" }
            @{ Name = 'a row with a negative quantity'; ErrorId = 'InvalidQuantity'; Text = "Service,Quantity,CustomerId`napi,-1,cus_import" }
            @{ Name = 'a row with quantity 1e999'; ErrorId = 'InvalidQuantity'; Text = "Service,Quantity,CustomerId`napi,1e999,cus_import" }
            @{ Name = 'a row with quantity NaN'; ErrorId = 'InvalidQuantity'; Text = '[{"Service":"api","Quantity":"NaN","CustomerId":"cus_import"}]' }
            @{ Name = 'a row whose customer id has a space'; ErrorId = 'InvalidCustomerId'; Text = "Service,Quantity,CustomerId`napi,1,cus import" }
            @{ Name = 'a row whose customer id is SQL'; ErrorId = 'InvalidCustomerId'; Text = "Service,Quantity,CustomerId`napi,1,`"x'); DROP TABLE billing_usage_records; --`"" }
            @{ Name = 'a row whose metadata is a JSON array'; ErrorId = 'InvalidMetadata'; Text = "Service,Quantity,CustomerId,Metadata`napi,1,cus_import,`"[1,2]`"" }
            @{ Name = 'a row whose metadata nests 1,000 deep'; ErrorId = 'InvalidMetadata'; Text = '[{"Service":"api","Quantity":1,"CustomerId":"cus_import","Metadata":' + (('{"a":' * 999) + '{}' + ('}' * 999) | ConvertTo-Json) + '}]' }
            @{ Name = 'a row with an escaped lone surrogate in its metadata'; ErrorId = 'InvalidMetadata'; Text = '[{"Service":"api","Quantity":1,"CustomerId":"cus_import","Metadata":{"a":"\ud800"}}]' }
            @{ Name = 'a row with a German date'; ErrorId = 'InvalidTimestamp'; Text = "Service,Quantity,CustomerId,Timestamp`napi,1,cus_import,27.11.2026" }
            @{ Name = 'a row with Arabic-Indic digits in its date'; ErrorId = 'InvalidTimestamp'; Text = "Service,Quantity,CustomerId,Timestamp`napi,1,cus_import,٢٠٢٦-١١-٢٧" }
            @{ Name = 'a row from before 2000'; ErrorId = 'InvalidTimestamp'; Text = "Service,Quantity,CustomerId,Timestamp`napi,1,cus_import,1999-12-31T23:59:59Z" }
            @{ Name = 'a row whose event id has a newline'; ErrorId = 'InvalidEventId'; Text = "EventId,Service,Quantity,CustomerId`n`"evt`nnewline`",api,1,cus_import" }
        ) {
            $path = Join-Path $files ([guid]::NewGuid().ToString('n') + '.dat')
            if ($Bytes) { [IO.File]::WriteAllBytes($path, $Bytes) }
            elseif (-not $Missing) { [IO.File]::WriteAllText($path, $Text, [Text.UTF8Encoding]::new($false)) }
            Assert-Refused { Import-UsageRecord $path } $ErrorId ($Category ?? 'InvalidArgument')
        }

        It 'a file with good rows around a bad one stores the good rows and reports the bad one once' {
            $path = Join-Path $files 'mixed.csv'
            Set-Content -LiteralPath $path -Value "EventId,Service,Quantity,CustomerId`nmix-1,api,1,cus_import`nmix-2,api,NaN,cus_import`nmix-3,database,2,cus_import"
            $events = Get-EventCount
            (Get-SingleError { Import-UsageRecord $path }).FullyQualifiedErrorId | Should -BeLike 'InvalidQuantity,*'
            Get-EventCount | Should -Be ($events + 2)
            @(Get-UsageRecord -CustomerId cus_import).EventId | Sort-Object | Should -Be @('mix-1', 'mix-3')
        }

        It 'a truncated JSON file keeps the rows before the damage, as documented, and importing it again adds nothing twice' {
            $path = Join-Path $files 'truncated.json'
            Set-Content -LiteralPath $path -Value '[{"EventId":"trunc-1","Service":"api","Quantity":1,"CustomerId":"cus_trunc"},{"EventId":"trunc-2","Service":'
            $events = Get-EventCount
            (Get-SingleError { Import-UsageRecord $path }).FullyQualifiedErrorId | Should -BeLike 'InvalidRecord,*'
            (Get-SingleError { Import-UsageRecord $path }).FullyQualifiedErrorId | Should -BeLike 'InvalidRecord,*'
            Get-EventCount | Should -Be ($events + 1)
            (Get-UsageRecord -CustomerId cus_trunc).EventId | Should -Be 'trunc-1'
        }
    }

    Context 'Batch mode refuses at the call, never spooling bad input' {
        BeforeAll {
            # No background flush while the cases run: Stop-UsageBatch delivers.
            if ($Available) { Start-UsageBatch -Size 1000000 -FlushInterval 86400 | Out-Null }
        }

        AfterAll {
            if ($Available -and (Get-UsageBatch).Active) { Stop-UsageBatch | Out-Null }
        }

        It '<Name> is <ErrorId> and is not spooled' -ForEach @(
            @{ Name = 'a negative quantity'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api -1 } }
            @{ Name = 'the text 1e999'; ErrorId = 'InvalidQuantity'; Command = { Add-UsageRecord api '1e999' } }
            @{ Name = 'an unknown service'; ErrorId = 'InvalidService'; Command = { Add-UsageRecord nosuchservice 1 } }
            @{ Name = 'a customer id with a space'; ErrorId = 'InvalidCustomerId'; Command = { Add-UsageApiRequest /x -CustomerId 'cus batch' } }
            @{ Name = 'a 10,000-character endpoint'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest ('/' + 'b' * 9999) } }
            @{ Name = 'an endpoint with a lone surrogate'; ErrorId = 'InvalidArgument'; Command = { Add-UsageApiRequest "/b$lone" } }
            @{ Name = '1 MB of metadata'; ErrorId = 'InvalidMetadata'; Command = { Add-UsageCompute 60 (New-MetadataJson 1MB) } }
            @{ Name = 'a time far in the future'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageBandwidth 1024 -Timestamp '2099-01-01' } }
            @{ Name = 'Arabic-Indic digits in a time'; ErrorId = 'InvalidTimestamp'; Command = { Add-UsageStorage 1024 -Timestamp '٢٠٢٦-١١-٢٧' } }
            @{ Name = 'a bad record string'; ErrorId = 'InvalidRecord'; Command = { Add-UsageRecord -Record 'api' } }
            @{ Name = 'a bad piped object'; ErrorId = 'InvalidQuantity'; Command = { [pscustomobject]@{ Service = 'database'; Quantity = 'Infinity' } | Add-UsageRecord } }
            @{ Name = 'an over-long function name'; ErrorId = 'InvalidArgument'; Command = { Add-UsageFunction ('f' * 256) 1 } }
            @{ Name = 'an event id with a newline'; ErrorId = 'InvalidEventId'; Command = { Add-UsageDatabaseQuery SELECT 1 -EventId "a`nb" } }
        ) {
            (Get-UsageBatch).Active | Should -BeTrue
            $status = Get-UsageBatch
            Assert-Refused $Command $ErrorId
            $after = Get-UsageBatch
            $after.Spooled | Should -Be $status.Spooled
            $after.Pending | Should -Be $status.Pending
        }

        It 'delivers only the valid event when the batch stops' {
            $events = Get-EventCount
            Add-UsageApiRequest "/batch'); DROP TABLE billing_usage_records; --" -EventId batch-good -CustomerId cus_batch
            (Get-UsageBatch).Spooled | Should -Be 1
            $result = Stop-UsageBatch
            $result.Submitted | Should -Be 1
            $result.Failed | Should -Be 0
            Get-EventCount | Should -Be ($events + 1)
            ((Read-Record batch-good -CustomerId cus_batch).Metadata | ConvertFrom-Json).endpoint | Should -BeExactly "/batch'); DROP TABLE billing_usage_records; --"
        }
    }

    Context 'Reading commands' {
        It 'report -End before -Start as InvalidDateRange' {
            $err = Get-SingleError { Get-Usage 2026-02-01 2026-01-01 }
            $err.FullyQualifiedErrorId | Should -BeLike 'InvalidDateRange,*'
        }

        It 'refuse a customer id that is SQL as InvalidCustomerId' {
            $err = Get-SingleError { Get-UsageRecord -CustomerId "x' OR '1'='1" }
            $err.FullyQualifiedErrorId | Should -BeLike 'InvalidCustomerId,*'
        }
    }
}
