// The protobuf messages of a core/v1 PodSpec, as `kubectl debug --copy-to` sends a Pod (the
// typed client writes protobuf for core kinds). Generated from kubernetes/api at 10b39a39b:
// core/v1/generated.proto gives each field's number and type, core/v1/types.go its JSON rules.
//
// One string per field: `name number type [flags]`, flags being
//   r  repeated;   m  map<string, type>;
//   i  inline: Go embeds the struct, so the JSON form merges its fields into the parent;
//   k  keep a zero value: a pointer field, or one without omitempty, so Go's JSON encoding
//      writes it. Other zero values ('' / 0 / false) are what Go's protobuf encoding always
//      writes and its JSON encoding leaves out; the decoder drops them.
// ObjectMeta, Quantity, LabelSelector and IntOrString are apimachinery's, defined in protobuf.ts.

/** Container and EphemeralContainerCommon: the same fields under the same numbers (core/v1 keeps them in step). */
const CONTAINER_FIELDS = [
  'name 1 string k', 'image 2 string', 'command 3 string r', 'args 4 string r', 'workingDir 5 string', 'ports 6 ContainerPort r',
  'envFrom 19 EnvFromSource r', 'env 7 EnvVar r', 'resources 8 ResourceRequirements', 'resizePolicy 23 ContainerResizePolicy r',
  'restartPolicy 24 string k', 'restartPolicyRules 25 ContainerRestartRule r', 'volumeMounts 9 VolumeMount r', 'volumeDevices 21 VolumeDevice r',
  'livenessProbe 10 Probe k', 'readinessProbe 11 Probe k', 'startupProbe 22 Probe k', 'lifecycle 12 Lifecycle k',
  'terminationMessagePath 13 string', 'terminationMessagePolicy 20 string', 'imagePullPolicy 14 string', 'securityContext 15 SecurityContext k',
  'stdin 16 bool', 'stdinOnce 17 bool', 'tty 18 bool',
];

export const POD_SPEC_MESSAGES: Record<string, readonly string[]> = {
  AWSElasticBlockStoreVolumeSource: ['volumeID 1 string k', 'fsType 2 string', 'partition 3 int32', 'readOnly 4 bool'],
  Affinity: ['nodeAffinity 1 NodeAffinity k', 'podAffinity 2 PodAffinity k', 'podAntiAffinity 3 PodAntiAffinity k'],
  AppArmorProfile: ['type 1 string k', 'localhostProfile 2 string k'],
  AzureDiskVolumeSource: [
    'diskName 1 string k', 'diskURI 2 string k', 'cachingMode 3 string k', 'fsType 4 string k', 'readOnly 5 bool k', 'kind 6 string k',
  ],
  AzureFileVolumeSource: ['secretName 1 string k', 'shareName 2 string k', 'readOnly 3 bool'],
  CSIVolumeSource: [
    'driver 1 string k', 'readOnly 2 bool k', 'fsType 3 string k', 'volumeAttributes 4 string m', 'nodePublishSecretRef 5 LocalObjectReference k',
  ],
  Capabilities: ['add 1 string r', 'drop 2 string r'],
  CephFSVolumeSource: [
    'monitors 1 string rk', 'path 2 string', 'user 3 string', 'secretFile 4 string', 'secretRef 5 LocalObjectReference k', 'readOnly 6 bool',
  ],
  CinderVolumeSource: ['volumeID 1 string k', 'fsType 2 string', 'readOnly 3 bool', 'secretRef 4 LocalObjectReference k'],
  ClusterTrustBundleProjection: [
    'name 1 string k', 'signerName 2 string k', 'labelSelector 3 LabelSelector k', 'optional 5 bool k', 'path 4 string k', 'user 6 int64 k',
  ],
  ConfigMapEnvSource: ['localObjectReference 1 LocalObjectReference ik', 'optional 2 bool k'],
  ConfigMapKeySelector: ['localObjectReference 1 LocalObjectReference ik', 'key 2 string k', 'optional 3 bool k'],
  ConfigMapProjection: ['localObjectReference 1 LocalObjectReference ik', 'items 2 KeyToPath r', 'optional 4 bool k'],
  ConfigMapVolumeSource: [
    'localObjectReference 1 LocalObjectReference ik', 'items 2 KeyToPath r', 'defaultMode 3 int32 k', 'optional 4 bool k', 'defaultUser 5 int64 k',
  ],
  Container: CONTAINER_FIELDS,
  ContainerPort: ['name 1 string', 'hostPort 2 int32', 'containerPort 3 int32 k', 'protocol 4 string', 'hostIP 5 string'],
  ContainerResizePolicy: ['resourceName 1 string k', 'restartPolicy 2 string k'],
  ContainerRestartRule: ['action 1 string', 'exitCodes 2 ContainerRestartRuleOnExitCodes k'],
  ContainerRestartRuleOnExitCodes: ['operator 1 string', 'values 2 int32 r'],
  DownwardAPIProjection: ['items 1 DownwardAPIVolumeFile r'],
  DownwardAPIVolumeFile: [
    'path 1 string k', 'fieldRef 2 ObjectFieldSelector k', 'resourceFieldRef 3 ResourceFieldSelector k', 'mode 4 int32 k', 'user 5 int64 k',
  ],
  DownwardAPIVolumeSource: ['items 1 DownwardAPIVolumeFile r', 'defaultMode 2 int32 k', 'defaultUser 3 int64 k'],
  EmptyDirVolumeSource: ['medium 1 string', 'sizeLimit 2 Quantity k', 'mode 3 int32 k'],
  EnvFromSource: ['prefix 1 string', 'configMapRef 2 ConfigMapEnvSource k', 'secretRef 3 SecretEnvSource k'],
  EnvVar: ['name 1 string k', 'value 2 string', 'valueFrom 3 EnvVarSource k'],
  EnvVarSource: [
    'fieldRef 1 ObjectFieldSelector k', 'resourceFieldRef 2 ResourceFieldSelector k', 'configMapKeyRef 3 ConfigMapKeySelector k',
    'secretKeyRef 4 SecretKeySelector k', 'fileKeyRef 5 FileKeySelector k',
  ],
  EphemeralContainer: ['ephemeralContainerCommon 1 EphemeralContainerCommon ik', 'targetContainerName 2 string'],
  EphemeralContainerCommon: CONTAINER_FIELDS,
  EphemeralVolumeSource: ['volumeClaimTemplate 1 PersistentVolumeClaimTemplate k'],
  EvictionResponder: ['name 1 string k', 'priority 2 int32 k'],
  ExecAction: ['command 1 string r'],
  FCVolumeSource: ['targetWWNs 1 string r', 'lun 2 int32 k', 'fsType 3 string', 'readOnly 4 bool', 'wwids 5 string r'],
  FileKeySelector: ['volumeName 1 string k', 'path 2 string k', 'key 3 string k', 'optional 4 bool k'],
  FlexVolumeSource: ['driver 1 string k', 'fsType 2 string', 'secretRef 3 LocalObjectReference k', 'readOnly 4 bool', 'options 5 string m'],
  FlockerVolumeSource: ['datasetName 1 string', 'datasetUUID 2 string'],
  GCEPersistentDiskVolumeSource: ['pdName 1 string k', 'fsType 2 string', 'partition 3 int32', 'readOnly 4 bool'],
  GRPCAction: ['port 1 int32 k', 'service 2 string k', 'mode 3 string k'],
  GitRepoVolumeSource: ['repository 1 string k', 'revision 2 string', 'directory 3 string'],
  GlusterfsVolumeSource: ['endpoints 1 string k', 'path 2 string k', 'readOnly 3 bool'],
  HTTPGetAction: ['path 1 string', 'port 2 IntOrString k', 'host 3 string', 'scheme 4 string', 'httpHeaders 5 HTTPHeader r', 'protocol 6 string k'],
  HTTPHeader: ['name 1 string k', 'value 2 string k'],
  HostAlias: ['ip 1 string k', 'hostnames 2 string r'],
  HostPathVolumeSource: ['path 1 string k', 'type 2 string k'],
  ISCSIVolumeSource: [
    'targetPortal 1 string k', 'iqn 2 string k', 'lun 3 int32 k', 'iscsiInterface 4 string', 'fsType 5 string', 'readOnly 6 bool',
    'portals 7 string r', 'chapAuthDiscovery 8 bool', 'chapAuthSession 11 bool', 'secretRef 10 LocalObjectReference k', 'initiatorName 12 string k',
  ],
  ImageVolumeSource: ['reference 1 string', 'pullPolicy 2 string'],
  KeyToPath: ['key 1 string k', 'path 2 string k', 'mode 3 int32 k', 'user 4 int64 k'],
  Lifecycle: ['postStart 1 LifecycleHandler k', 'preStop 2 LifecycleHandler k', 'stopSignal 3 string k'],
  LifecycleHandler: ['exec 1 ExecAction k', 'httpGet 2 HTTPGetAction k', 'tcpSocket 3 TCPSocketAction k', 'sleep 4 SleepAction k'],
  LocalObjectReference: ['name 1 string'],
  NFSVolumeSource: ['server 1 string k', 'path 2 string k', 'readOnly 3 bool'],
  NodeAffinity: [
    'requiredDuringSchedulingIgnoredDuringExecution 1 NodeSelector k', 'preferredDuringSchedulingIgnoredDuringExecution 2 PreferredSchedulingTerm r',
  ],
  NodeSelector: ['nodeSelectorTerms 1 NodeSelectorTerm rk'],
  NodeSelectorRequirement: ['key 1 string k', 'operator 2 string k', 'values 3 string r'],
  NodeSelectorTerm: ['matchExpressions 1 NodeSelectorRequirement r', 'matchFields 2 NodeSelectorRequirement r'],
  ObjectFieldSelector: ['apiVersion 1 string', 'fieldPath 2 string k'],
  PersistentVolumeClaimSpec: [
    'accessModes 1 string r', 'selector 4 LabelSelector k', 'resources 2 VolumeResourceRequirements', 'volumeName 3 string',
    'storageClassName 5 string k', 'volumeMode 6 string k', 'dataSource 7 TypedLocalObjectReference k', 'dataSourceRef 8 TypedObjectReference k',
    'volumeAttributesClassName 9 string k',
  ],
  PersistentVolumeClaimTemplate: ['metadata 1 ObjectMeta', 'spec 2 PersistentVolumeClaimSpec k'],
  PersistentVolumeClaimVolumeSource: ['claimName 1 string k', 'readOnly 2 bool'],
  PhotonPersistentDiskVolumeSource: ['pdID 1 string k', 'fsType 2 string'],
  PodAffinity: [
    'requiredDuringSchedulingIgnoredDuringExecution 1 PodAffinityTerm r',
    'preferredDuringSchedulingIgnoredDuringExecution 2 WeightedPodAffinityTerm r',
  ],
  PodAffinityTerm: [
    'labelSelector 1 LabelSelector k', 'namespaces 2 string r', 'topologyKey 3 string k', 'namespaceSelector 4 LabelSelector k',
    'matchLabelKeys 5 string r', 'mismatchLabelKeys 6 string r',
  ],
  PodAntiAffinity: [
    'requiredDuringSchedulingIgnoredDuringExecution 1 PodAffinityTerm r',
    'preferredDuringSchedulingIgnoredDuringExecution 2 WeightedPodAffinityTerm r',
  ],
  PodCertificateProjection: [
    'signerName 1 string', 'keyType 2 string', 'maxExpirationSeconds 3 int32 k', 'credentialBundlePath 4 string', 'keyPath 5 string',
    'certificateChainPath 6 string', 'userAnnotations 7 string m', 'user 8 int64 k',
  ],
  PodDNSConfig: ['nameservers 1 string r', 'searches 2 string r', 'options 3 PodDNSConfigOption r'],
  PodDNSConfigOption: ['name 1 string', 'value 2 string k'],
  PodOS: ['name 1 string k'],
  PodReadinessGate: ['conditionType 1 string k'],
  PodResourceClaim: ['name 1 string k', 'resourceClaimName 3 string k', 'resourceClaimTemplateName 4 string k'],
  PodSchedulingGate: ['name 1 string k'],
  PodSchedulingGroup: ['podGroupName 1 string k'],
  PodSecurityContext: [
    'seLinuxOptions 1 SELinuxOptions k', 'windowsOptions 8 WindowsSecurityContextOptions k', 'runAsUser 2 int64 k', 'runAsGroup 6 int64 k',
    'runAsNonRoot 3 bool k', 'supplementalGroups 4 int64 r', 'supplementalGroupsPolicy 12 string k', 'fsGroup 5 int64 k', 'sysctls 7 Sysctl r',
    'fsGroupChangePolicy 9 string k', 'seccompProfile 10 SeccompProfile k', 'appArmorProfile 11 AppArmorProfile k', 'seLinuxChangePolicy 13 string k',
  ],
  PodSpec: [
    'volumes 1 Volume r', 'initContainers 20 Container r', 'containers 2 Container rk', 'ephemeralContainers 34 EphemeralContainer r',
    'restartPolicy 3 string', 'terminationGracePeriodSeconds 4 int64 k', 'activeDeadlineSeconds 5 int64 k', 'dnsPolicy 6 string',
    'nodeSelector 7 string m', 'serviceAccountName 8 string', 'serviceAccount 9 string', 'automountServiceAccountToken 21 bool k',
    'nodeName 10 string', 'hostNetwork 11 bool', 'hostPID 12 bool', 'hostIPC 13 bool', 'shareProcessNamespace 27 bool k',
    'securityContext 14 PodSecurityContext k', 'imagePullSecrets 15 LocalObjectReference r', 'hostname 16 string', 'subdomain 17 string',
    'affinity 18 Affinity k', 'schedulerName 19 string', 'tolerations 22 Toleration r', 'hostAliases 23 HostAlias r', 'priorityClassName 24 string',
    'priority 25 int32 k', 'dnsConfig 26 PodDNSConfig k', 'readinessGates 28 PodReadinessGate r', 'runtimeClassName 29 string k',
    'enableServiceLinks 30 bool k', 'preemptionPolicy 31 string k', 'overhead 32 Quantity m',
    'topologySpreadConstraints 33 TopologySpreadConstraint r', 'setHostnameAsFQDN 35 bool k', 'os 36 PodOS k', 'hostUsers 37 bool k',
    'schedulingGates 38 PodSchedulingGate r', 'resourceClaims 39 PodResourceClaim r', 'resources 40 ResourceRequirements k',
    'hostnameOverride 41 string k', 'schedulingGroup 43 PodSchedulingGroup k', 'evictionResponders 44 EvictionResponder r',
  ],
  PortworxVolumeSource: ['volumeID 1 string k', 'fsType 2 string', 'readOnly 3 bool'],
  PreferredSchedulingTerm: ['weight 1 int32 k', 'preference 2 NodeSelectorTerm k'],
  Probe: [
    'handler 1 ProbeHandler ik', 'initialDelaySeconds 2 int32', 'timeoutSeconds 3 int32', 'periodSeconds 4 int32', 'successThreshold 5 int32',
    'failureThreshold 6 int32', 'terminationGracePeriodSeconds 7 int64 k',
  ],
  ProbeHandler: ['exec 1 ExecAction k', 'httpGet 2 HTTPGetAction k', 'tcpSocket 3 TCPSocketAction k', 'grpc 4 GRPCAction k'],
  ProjectedVolumeSource: ['sources 1 VolumeProjection rk', 'defaultMode 2 int32 k', 'defaultUser 3 int64 k'],
  QuobyteVolumeSource: ['registry 1 string k', 'volume 2 string k', 'readOnly 3 bool', 'user 4 string', 'group 5 string', 'tenant 6 string'],
  RBDVolumeSource: [
    'monitors 1 string rk', 'image 2 string k', 'fsType 3 string', 'pool 4 string', 'user 5 string', 'keyring 6 string',
    'secretRef 7 LocalObjectReference k', 'readOnly 8 bool',
  ],
  ResourceClaim: ['name 1 string k', 'request 2 string'],
  ResourceFieldSelector: ['containerName 1 string', 'resource 2 string k', 'divisor 3 Quantity'],
  ResourceRequirements: ['limits 1 Quantity m', 'requests 2 Quantity m', 'claims 3 ResourceClaim r'],
  SELinuxOptions: ['user 1 string', 'role 2 string', 'type 3 string', 'level 4 string'],
  ScaleIOVolumeSource: [
    'gateway 1 string k', 'system 2 string k', 'secretRef 3 LocalObjectReference k', 'sslEnabled 4 bool', 'protectionDomain 5 string',
    'storagePool 6 string', 'storageMode 7 string', 'volumeName 8 string', 'fsType 9 string', 'readOnly 10 bool',
  ],
  SeccompProfile: ['type 1 string k', 'localhostProfile 2 string k'],
  SecretEnvSource: ['localObjectReference 1 LocalObjectReference ik', 'optional 2 bool k'],
  SecretKeySelector: ['localObjectReference 1 LocalObjectReference ik', 'key 2 string k', 'optional 3 bool k'],
  SecretProjection: ['localObjectReference 1 LocalObjectReference ik', 'items 2 KeyToPath r', 'optional 4 bool k'],
  SecretVolumeSource: ['secretName 1 string', 'items 2 KeyToPath r', 'defaultMode 3 int32 k', 'optional 4 bool k', 'defaultUser 5 int64 k'],
  SecurityContext: [
    'capabilities 1 Capabilities k', 'privileged 2 bool k', 'seLinuxOptions 3 SELinuxOptions k', 'windowsOptions 10 WindowsSecurityContextOptions k',
    'runAsUser 4 int64 k', 'runAsGroup 8 int64 k', 'runAsNonRoot 5 bool k', 'readOnlyRootFilesystem 6 bool k', 'allowPrivilegeEscalation 7 bool k',
    'procMount 9 string k', 'seccompProfile 11 SeccompProfile k', 'appArmorProfile 12 AppArmorProfile k',
  ],
  ServiceAccountTokenProjection: ['audience 1 string', 'expirationSeconds 2 int64 k', 'path 3 string k', 'user 4 int64 k'],
  SleepAction: ['seconds 1 int64 k'],
  StorageOSVolumeSource: [
    'volumeName 1 string', 'volumeNamespace 2 string', 'fsType 3 string', 'readOnly 4 bool', 'secretRef 5 LocalObjectReference k',
  ],
  Sysctl: ['name 1 string k', 'value 2 string k'],
  TCPSocketAction: ['port 1 IntOrString k', 'host 2 string'],
  Toleration: ['key 1 string', 'operator 2 string', 'value 3 string', 'effect 4 string', 'tolerationSeconds 5 int64 k'],
  TopologySpreadConstraint: [
    'maxSkew 1 int32 k', 'topologyKey 2 string k', 'whenUnsatisfiable 3 string k', 'labelSelector 4 LabelSelector k', 'minDomains 5 int32 k',
    'nodeAffinityPolicy 6 string k', 'nodeTaintsPolicy 7 string k', 'matchLabelKeys 8 string r',
  ],
  TypedLocalObjectReference: ['apiGroup 1 string k', 'kind 2 string k', 'name 3 string k'],
  TypedObjectReference: ['apiGroup 1 string k', 'kind 2 string k', 'name 3 string k', 'namespace 4 string k'],
  Volume: ['name 1 string k', 'volumeSource 2 VolumeSource ik'],
  VolumeDevice: ['name 1 string k', 'devicePath 2 string k'],
  VolumeMount: [
    'name 1 string k', 'readOnly 2 bool', 'recursiveReadOnly 7 string k', 'mountPath 3 string k', 'subPath 4 string', 'mountPropagation 5 string k',
    'subPathExpr 6 string', 'bindMountOptions 8 string r',
  ],
  VolumeProjection: [
    'secret 1 SecretProjection k', 'downwardAPI 2 DownwardAPIProjection k', 'configMap 3 ConfigMapProjection k',
    'serviceAccountToken 4 ServiceAccountTokenProjection k', 'clusterTrustBundle 5 ClusterTrustBundleProjection k',
    'podCertificate 6 PodCertificateProjection k',
  ],
  VolumeResourceRequirements: ['limits 1 Quantity m', 'requests 2 Quantity m'],
  VolumeSource: [
    'hostPath 1 HostPathVolumeSource k', 'emptyDir 2 EmptyDirVolumeSource k', 'gcePersistentDisk 3 GCEPersistentDiskVolumeSource k',
    'awsElasticBlockStore 4 AWSElasticBlockStoreVolumeSource k', 'gitRepo 5 GitRepoVolumeSource k', 'secret 6 SecretVolumeSource k',
    'nfs 7 NFSVolumeSource k', 'iscsi 8 ISCSIVolumeSource k', 'glusterfs 9 GlusterfsVolumeSource k',
    'persistentVolumeClaim 10 PersistentVolumeClaimVolumeSource k', 'rbd 11 RBDVolumeSource k', 'flexVolume 12 FlexVolumeSource k',
    'cinder 13 CinderVolumeSource k', 'cephfs 14 CephFSVolumeSource k', 'flocker 15 FlockerVolumeSource k',
    'downwardAPI 16 DownwardAPIVolumeSource k', 'fc 17 FCVolumeSource k', 'azureFile 18 AzureFileVolumeSource k',
    'configMap 19 ConfigMapVolumeSource k', 'vsphereVolume 20 VsphereVirtualDiskVolumeSource k', 'quobyte 21 QuobyteVolumeSource k',
    'azureDisk 22 AzureDiskVolumeSource k', 'photonPersistentDisk 23 PhotonPersistentDiskVolumeSource k', 'projected 26 ProjectedVolumeSource k',
    'portworxVolume 24 PortworxVolumeSource k', 'scaleIO 25 ScaleIOVolumeSource k', 'storageos 27 StorageOSVolumeSource k',
    'csi 28 CSIVolumeSource k', 'ephemeral 29 EphemeralVolumeSource k', 'image 30 ImageVolumeSource k',
  ],
  VsphereVirtualDiskVolumeSource: ['volumePath 1 string k', 'fsType 2 string', 'storagePolicyName 3 string', 'storagePolicyID 4 string'],
  WeightedPodAffinityTerm: ['weight 1 int32 k', 'podAffinityTerm 2 PodAffinityTerm k'],
  WindowsSecurityContextOptions: [
    'gmsaCredentialSpecName 1 string k', 'gmsaCredentialSpec 2 string k', 'runAsUserName 3 string k', 'hostProcess 4 bool k',
  ],
};
