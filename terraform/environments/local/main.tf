# Everything the app's AWS mode needs, created in LocalStack. scripts/localstack/init-aws.sh
# applies this when LocalStack is ready (docker compose --profile aws).

module "queue" {
  source = "../../modules/queue"

  name_prefix = var.name_prefix
  # Short enough that a killed worker's job comes back quickly while you watch.
  visibility_timeout_seconds = 60
  max_receive_count          = 10
}

module "storage" {
  source = "../../modules/storage"

  bucket_name             = "${var.name_prefix}-results"
  results_expiration_days = var.results_expiration_days
  # The app reaches LocalStack over plain HTTP; LocalStack does not enforce bucket policies anyway.
  require_tls   = false
  force_destroy = true
}

module "secrets" {
  source = "../../modules/secrets"

  name                    = "${var.name_prefix}/app"
  recovery_window_in_days = 0 # delete at once, so a re-apply can re-create the name
  manage_secret_version   = true
  secret_values           = var.secret_values
}
