export { registrationHandler as handler } from '@dataharvest/shared/registration';
