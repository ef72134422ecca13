//! ECR: the registry of `<account>.dkr.ecr.<region>.amazonaws.com`, signed in with
//! `GetAuthorizationToken` (a Basic credential valid 12 hours), its repository created when
//! missing, as the AgentCore starter toolkit does.

use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};

use crate::aws_error;
use aws_types::SdkConfig;
use aws_types::region::Region;

use super::{Reference, Registry, RegistryError};

/// An ECR registry: the account and region its host names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EcrRegistry {
    /// The 12-digit account id.
    pub account: String,
    /// The region (`us-west-2`).
    pub region: String,
}

impl EcrRegistry {
    /// The ECR registry `reference` names, if its host is
    /// `<account>.dkr.ecr.<region>.amazonaws.com[.cn]`.
    pub fn of(reference: &Reference) -> Option<Self> {
        let host = reference.host();
        let rest = host
            .strip_suffix(".amazonaws.com")
            .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
        let (account, rest) = rest.split_once(".dkr.ecr.")?;
        let valid_region = !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && valid_region).then(
            || Self {
                account: account.to_owned(),
                region: rest.to_owned(),
            },
        )
    }

    /// `registry` signed in with a token for the caller of `conf` (the registry's region), after
    /// creating `repository` if it does not exist.
    pub async fn sign_in(
        &self,
        conf: &SdkConfig,
        registry: Registry,
        repository: &str,
    ) -> Result<Registry, RegistryError> {
        let client = aws_sdk_ecr::Client::from_conf(
            aws_sdk_ecr::config::Builder::from(conf)
                .region(Region::new(self.region.clone()))
                .build(),
        );
        self.ensure_repository(&client, repository).await?;
        let answer = client
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| ecr_error("GetAuthorizationToken", &e))?;
        let token = answer
            .authorization_data()
            .first()
            .and_then(|data| data.authorization_token())
            .ok_or_else(|| {
                RegistryError::Ecr("ECR GetAuthorizationToken answered without a token".to_owned())
            })?;
        Ok(registry.with_basic_auth(token))
    }

    async fn ensure_repository(
        &self,
        client: &aws_sdk_ecr::Client,
        repository: &str,
    ) -> Result<(), RegistryError> {
        let described = client
            .describe_repositories()
            .registry_id(&self.account)
            .repository_names(repository)
            .send()
            .await;
        match described {
            Ok(_) => return Ok(()),
            Err(e) if aws_error::code(&e) == Some("RepositoryNotFoundException") => {}
            Err(e) => return Err(ecr_error("DescribeRepositories", &e)),
        }
        tracing::info!(repository, registry = %self.account, "creating the ECR repository");
        match client
            .create_repository()
            .registry_id(&self.account)
            .repository_name(repository)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if aws_error::code(&e) == Some("RepositoryAlreadyExistsException") => Ok(()),
            Err(e) => Err(ecr_error("CreateRepository", &e)),
        }
    }
}

fn ecr_error<E: ProvideErrorMetadata, R>(action: &str, error: &SdkError<E, R>) -> RegistryError {
    RegistryError::Ecr(crate::aws_error::describe("ECR", "ecr", action, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Option<EcrRegistry> {
        EcrRegistry::of(&text.parse().unwrap())
    }

    #[test]
    fn ecr_hosts_name_account_and_region() {
        let ecr = of("123456789012.dkr.ecr.us-west-2.amazonaws.com/agent:v1").unwrap();
        assert_eq!(
            (ecr.account.as_str(), ecr.region.as_str()),
            ("123456789012", "us-west-2")
        );
        assert!(of("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/agent").is_some());
        assert!(of("12345.dkr.ecr.us-west-2.amazonaws.com/agent").is_none());
        assert!(of("ghcr.io/agent").is_none());
        assert!(of("123456789012.dkr.ecr.US_WEST.amazonaws.com/agent").is_none());
    }
}
