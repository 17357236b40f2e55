environment = "preprod"
