# Issue 20, as an operator meets it: alert actions that send quota alerts to a signed webhook and
# to e-mail. A customer crossing Critical then Exceeded reaches a local receiver exactly twice, each
# signature verifiable with the secret; a receiver that is down gets the alert once it is back; a
# sender killed with SIGKILL in the middle of a delivery leaves it to the next run, which delivers it
# (the receiver sees one webhook-id); an e-mail action reaches a local SMTP server; bad input gets
# one clear error with a stable id. On SQLite and PostgreSQL.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend -WithAvailability
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $env:NSELF_CUSTOMER_ID = $null
    $manifest = Get-ModuleManifestPath
    $secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    $savedAlertSettings = @{}
    foreach ($name in 'USAGE_ALERT_TIMEOUT', 'USAGE_ALERT_RETRY_SECONDS', 'USAGE_ALERT_MAX_ATTEMPTS') { $savedAlertSettings[$name] = [Environment]::GetEnvironmentVariable($name) }

    function New-Secret([string] $Text) { ConvertTo-SecureString $Text -AsPlainText -Force }

    # A customer on the free plan (api: 10,000 requests a month) with the given requests this month.
    function Use-Api([string] $Customer, [int] $Requests) {
        if (-not (Get-BillingSubscription -CustomerId $Customer -ErrorAction SilentlyContinue)) {
            New-BillingSubscription -CustomerId $Customer -Plan free -Start (Get-Date).ToUniversalTime().Date.AddDays(1 - (Get-Date).ToUniversalTime().Day) | Out-Null
        }
        Add-UsageRecord -CustomerId $Customer -Service api -Quantity $Requests
    }
}

AfterAll {
    foreach ($name in $savedAlertSettings.Keys) { [Environment]::SetEnvironmentVariable($name, $savedAlertSettings[$name]) }
    Remove-InProcessFixture $work $saved
}

Describe 'Alerts that reach people, on <Backend>' -ForEach $backends {
    BeforeAll {
        $database = $null
        if ($Available) {
            $database = Use-SessionStore $Backend (Join-Path $work "alerts-$Backend.db")
        }
        $sinks = [System.Collections.Generic.List[object]]::new()
    }

    BeforeEach {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
        $env:USAGE_ALERT_TIMEOUT = $null
        $env:USAGE_ALERT_RETRY_SECONDS = $null
        $env:USAGE_ALERT_MAX_ATTEMPTS = $null
        Get-UsageAlertAction | Remove-UsageAlertAction -Confirm:$false
    }

    AfterEach {
        $sinks | Stop-WebhookSink
        $sinks.Clear()
    }

    AfterAll {
        Remove-SessionStore $database
    }

    It 'a customer crossing Critical then Exceeded reaches the webhook exactly twice, each signed with the secret' {
        $sink = Start-WebhookSink -Directory (Join-Path $work "hook-$Backend")
        $sinks.Add($sink)
        $action = Register-UsageAlertAction -Name ops -Webhook $sink.Url -Secret (New-Secret $secret)
        $action.Kind, $action.SecretSet, ($action.Level -join ',') | Should -Be 'Webhook', $true, 'Warning,Critical,Exceeded'
        ($action | Format-List * | Out-String) | Should -Not -Match 'MfKQ9r8'

        Use-Api cus_twice 9100
        (Test-UsageQuota -CustomerId cus_twice -Service api -WarningAction SilentlyContinue).Level | Should -Be 'Critical'
        Use-Api cus_twice 1000
        (Test-UsageQuota -CustomerId cus_twice -Service api -WarningAction SilentlyContinue).Level | Should -Be 'Exceeded'
        # Checked again: nothing new is raised, nothing more is sent.
        Test-UsageQuota -CustomerId cus_twice -Service api | Out-Null
        Submit-UsageAlertDelivery | Should -BeNullOrEmpty

        $requests = @(Get-WebhookSinkRequest $sink -Count 2)
        $requests.Count | Should -Be 2
        foreach ($request in $requests) {
            Test-WebhookSignature -Request $request -Secret $secret | Should -BeTrue
            Test-WebhookSignature -Request $request -Secret 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' | Should -BeFalse
        }
        ($requests.Body | ForEach-Object { ($_ | ConvertFrom-Json).type }) | Should -Be 'usage.alert.critical', 'usage.alert.exceeded'
        $alerts = @(Get-UsageAlert -CustomerId cus_twice)
        ($requests | ForEach-Object { $_.Headers.'webhook-id' }) | Should -Be ($alerts | ForEach-Object { "alert_$($_.AlertId)" })
        $deliveries = @(Get-UsageAlertDelivery -CustomerId cus_twice)
        ($deliveries | ForEach-Object { "$($_.Level) $($_.Status) $($_.Attempts)" }) | Should -Be 'Critical Delivered 1', 'Exceeded Delivered 1'
    }

    It 'a receiver that is down gets the alert once it is back' {
        $env:USAGE_ALERT_RETRY_SECONDS = '1'
        $env:USAGE_ALERT_TIMEOUT = '2'
        $folder = Join-Path $work "down-$Backend"
        $sink = Start-WebhookSink -Directory $folder
        $port = $sink.Port
        Stop-WebhookSink $sink
        Register-UsageAlertAction -Name ops -Webhook $sink.Url -Secret (New-Secret $secret) | Out-Null

        Use-Api cus_down 9600
        $warnings = @()
        Test-UsageQuota -CustomerId cus_down -Service api -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
        ($warnings -join "`n") | Should -Match "was not delivered to 'ops' \(attempt 1\): Could not reach http://127\.0\.0\.1:$port"
        $waiting = Get-UsageAlertDelivery -CustomerId cus_down
        $waiting.Status, $waiting.Attempts | Should -Be 'Pending', 1

        $back = Start-WebhookSink -Directory $folder -Port $port
        $sinks.Add($back)
        Start-Sleep -Milliseconds 1100
        $delivered = @(Submit-UsageAlertDelivery)
        $delivered.Count | Should -Be 1
        $delivered[0].Status, $delivered[0].Attempts | Should -Be 'Delivered', 2
        Submit-UsageAlertDelivery | Should -BeNullOrEmpty
        $requests = @(Get-WebhookSinkRequest $back -Count 1)
        $requests.Count | Should -Be 1
        Test-WebhookSignature -Request $requests[0] -Secret $secret | Should -BeTrue
    }

    It 'a sender killed with SIGKILL mid-delivery leaves it to the next run, which delivers it under the same webhook-id' {
        # The receiver takes the first request and never answers it: the sender is waiting when it is killed.
        $env:USAGE_ALERT_TIMEOUT = '2'
        $sink = Start-WebhookSink -Directory (Join-Path $work "killed-$Backend") -Stall 1
        $sinks.Add($sink)
        Register-UsageAlertAction -Name ops -Webhook $sink.Url -Secret (New-Secret $secret) | Out-Null
        Use-Api cus_killed 9700
        # The alert is recorded by a quota check in another process, which then delivers it, and is killed while it waits.
        $file = Join-Path $work "killed-$Backend.ps1"
        Set-Content -LiteralPath $file -Encoding utf8NoBOM -Value @"
Import-Module '$manifest'
Test-UsageQuota -CustomerId cus_killed -Service api | Out-Null
'finished'
"@
        $sender = Start-PwshProcess -File $file -Environment @{ NSELF_USAGE_STORE = $env:NSELF_USAGE_STORE; USAGE_ALERT_TIMEOUT = '30' } -OutputPrefix (Join-Path $work "killed-$Backend")
        $deadline = [DateTime]::UtcNow.AddSeconds(90)
        while (@(Get-WebhookSinkRequest $sink).Count -lt 1 -and [DateTime]::UtcNow -lt $deadline -and -not $sender.HasExited) { Start-Sleep -Milliseconds 200 }
        @(Get-WebhookSinkRequest $sink).Count | Should -Be 1 -Because "the sender reached the receiver ($(Get-Content -LiteralPath (Join-Path $work "killed-$Backend.err") -Raw))"
        & kill -9 $sender.Id
        $sender.WaitForExit(10000) | Should -BeTrue
        Get-Content -LiteralPath (Join-Path $work "killed-$Backend.out") -Raw | Should -Not -Match 'finished'
        $held = Get-UsageAlertDelivery -CustomerId cus_killed
        $held.Status, $held.Attempts, $held.Leased | Should -Be 'Pending', 1, $true

        # The killed sender's lease (3 x its 30 s timeout) is not this run's to break: nothing is sent.
        Submit-UsageAlertDelivery | Should -BeNullOrEmpty
        # Once the lease is over the next run delivers it. (Pretend 90 s passed: the lease ends now.)
        Invoke-StoreSql $env:NSELF_USAGE_STORE "UPDATE usage_alert_deliveries SET lease_until = next_attempt_at WHERE customer_id = 'cus_killed'"
        $delivered = @(Submit-UsageAlertDelivery)
        $delivered.Status, $delivered.Attempts | Should -Be 'Delivered', 2

        $requests = @(Get-WebhookSinkRequest $sink -Count 2)
        $requests.Count | Should -Be 2 -Because 'two posts: the one the killed sender made, and the one that was answered'
        @($requests | ForEach-Object { $_.Headers.'webhook-id' } | Sort-Object -Unique).Count | Should -Be 1 -Because 'one alert, one webhook-id'
        $requests | ForEach-Object { Test-WebhookSignature -Request $_ -Secret $secret | Should -BeTrue }
    }

    It 'an e-mail action mails the alert through the SMTP server' {
        $smtp = Start-SmtpSink -Directory (Join-Path $work "smtp-$Backend")
        try {
            Set-BillingProfile -LegalName 'Beispiel GmbH' -Email alerts@beispiel.example -SmtpServer 127.0.0.1 -SmtpPort $smtp.Port | Out-Null
            Register-UsageAlertAction -Name ops-mail -Email ops@beispiel.example, 'Pager <pager@beispiel.example>' -Level Critical, Exceeded -Service api | Out-Null
            Use-Api cus_mail 9300
            Test-UsageQuota -CustomerId cus_mail -Service api -WarningAction SilentlyContinue | Out-Null

            $messages = @(Get-SmtpSinkMessage $smtp -Count 1)
            $messages.Count | Should -Be 1
            $messages[0].EnvelopeTo | Should -Be 'ops@beispiel.example', 'pager@beispiel.example'
            $messages[0].Subject | Should -Be '[cus_mail] CRITICAL: api usage at 93% - 9300/10000'
            $messages[0].TextBody | Should -Match 'Customer:\s+cus_mail'
            (Get-UsageAlertDelivery -CustomerId cus_mail).Status | Should -Be 'Delivered'
        }
        finally { Stop-SmtpSink $smtp }
    }

    It 'refuses <Name> with one error, <ErrorId>, and saves nothing' -ForEach @(
        @{ Name = 'a webhook that is not http(s)'; ErrorId = 'InvalidWebhookUri'; Command = { Register-UsageAlertAction bad -Webhook 'ftp://hooks.example.com/x' -Secret (New-Secret $secret) } }
        @{ Name = 'a relative webhook'; ErrorId = 'InvalidWebhookUri'; Command = { Register-UsageAlertAction bad -Webhook '/hooks/usage' -Secret (New-Secret $secret) } }
        @{ Name = 'an empty secret'; ErrorId = 'InvalidSecret'; Command = { Register-UsageAlertAction bad -Webhook 'https://hooks.example.com/x' -Secret ([securestring]::new()) } }
        @{ Name = 'a secret too short to sign with'; ErrorId = 'InvalidSecret'; Command = { Register-UsageAlertAction bad -Webhook 'https://hooks.example.com/x' -Secret (New-Secret 'hunter2') } }
        @{ Name = 'an unknown level'; ErrorId = 'ParameterArgumentValidationError'; Command = { Register-UsageAlertAction bad -Email ops@example.com -Level Severe } }
        @{ Name = 'an address that is not one'; ErrorId = 'InvalidArgument'; Command = { Register-UsageAlertAction bad -Email 'ops at example' } }
        @{ Name = 'an empty customer filter'; ErrorId = 'InvalidCustomerId'; Command = { Register-UsageAlertAction bad -Email ops@example.com -CustomerId '' } }
        @{ Name = 'an unknown action to remove'; ErrorId = 'AlertActionNotFound'; Command = { Remove-UsageAlertAction nosuch -Confirm:$false } }
        @{ Name = 'an unknown delivery'; ErrorId = 'AlertDeliveryNotFound'; Command = { Submit-UsageAlertDelivery -DeliveryId 987654 } }
    ) {
        Get-Failure $Command | Should -Be $ErrorId
        Get-UsageAlertAction | Should -BeNullOrEmpty
    }

    It 'an action of a name that exists is replaced only with -Force' {
        Register-UsageAlertAction ops -Email ops@example.com | Out-Null
        Get-Failure { Register-UsageAlertAction ops -Email other@example.com } | Should -Be 'AlertActionExists'
        (Register-UsageAlertAction ops -Email other@example.com -Force).Target | Should -Be 'other@example.com'
        (Get-UsageAlertAction).Target | Should -Be 'other@example.com'
        Get-Failure { Get-UsageAlertAction nosuch } | Should -Be 'AlertActionNotFound'
        @(Get-UsageAlertAction o*).Count | Should -Be 1
    }
}
